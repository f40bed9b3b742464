import { InputError } from '../../errors.js';
import { flattenWindowsEvent, isEvtxRecord } from '../flatten.js';
import { normaliseEvent } from '../normalise.js';
// The writer module directly, not the store's index: the store seeds itself through this loader.
import type { FileWriter, StoreWriter } from '../store/writer.js';
import { eventId } from '../store/writer.js';
import type { EntrySink } from './archives.js';
import { readSource } from './archives.js';
import type { SourceRecord } from './lines.js';
import { createByteLineSplitter, createRecordReader } from './lines.js';
import type { SourceFile } from './sources.js';
import { hashFile, sourceStem } from './sources.js';
import { flattenWinlogbeat, isWinlogbeatRecord } from './winlogbeat.js';

/** A line (or a whole source, line null) that could not be loaded. */
export interface LoadError {
  /** The file, with `:<member>` for a member of an archive. */
  file: string;
  line: number | null;
  message: string;
}

export interface FileOutcome {
  path: string;
  status: 'loaded' | 'skipped' | 'failed';
  events: number;
  errors: number;
}

export interface LoadSummary {
  files: FileOutcome[];
  loaded: number;
  skipped: number;
  failed: number;
  events: number;
  /** Error count, including those beyond `errors` (the first few per file are kept). */
  errorCount: number;
  errors: LoadError[];
}

export interface LoadOptions {
  /** Called after each file with its outcome. */
  onFile?: (file: SourceFile, outcome: FileOutcome) => void;
}

/** Errors kept per file; the rest are counted. */
const errorsKeptPerFile = 20;

/**
 * Loads the files in order, one transaction each; corrupt lines and sources are reported, never fatal.
 * Reading and normalising file N+1 (JavaScript) overlaps the bulk insert of file N (DuckDB threads).
 */
export async function loadSources(
  writer: StoreWriter,
  files: readonly SourceFile[],
  options: LoadOptions = {},
): Promise<LoadSummary> {
  const summary: LoadSummary = {
    files: [],
    loaded: 0,
    skipped: 0,
    failed: 0,
    events: 0,
    errorCount: 0,
    errors: [],
  };
  const record = (file: SourceFile, outcome: FileOutcome) => {
    summary.files.push(outcome);
    summary[outcome.status] += 1;
    summary.events += outcome.events;
    options.onFile?.(file, outcome);
  };
  let pending: Promise<void> | null = null;
  let failure: { error: unknown } | null = null;
  for (const file of files) {
    const staged = await stageFile(writer, file, summary);
    if (pending) await pending;
    if (failure) break;
    if (!staged.target) {
      record(file, staged.outcome);
      continue;
    }
    const { target, outcome } = staged;
    // Caught at once: a rejected commit must not go unhandled while the next file is staged.
    pending = target
      .commit({ errors: outcome.errors })
      .then(({ events }) => record(file, { ...outcome, events, status: events > 0 ? 'loaded' : 'failed' }))
      .catch((error: unknown) => {
        failure = { error };
      });
  }
  if (pending) await pending;
  if (failure) throw (failure as { error: unknown }).error;
  await writer.finish();
  return summary;
}

interface StagedFile {
  target: FileWriter | null;
  outcome: FileOutcome;
}

async function stageFile(writer: StoreWriter, file: SourceFile, summary: LoadSummary): Promise<StagedFile> {
  let kept = 0;
  let errors = 0;
  const report = (where: string, line: number | null, message: string) => {
    errors += 1;
    summary.errorCount += 1;
    if (kept++ < errorsKeptPerFile) summary.errors.push({ file: where, line, message });
  };
  const sha256 = await hashFile(file.path);
  const target = writer.beginFile({ path: file.path, sha256, stem: sourceStem(file.path) });
  if (!target) return { target: null, outcome: { path: file.path, status: 'skipped', events: 0, errors: 0 } };
  let entries = 0;
  let current: { name: string; lines: () => number } | null = null;
  const openEntry = (name: string): EntrySink => {
    const where = file.kind === 'json' ? file.path : `${file.path}:${name}`;
    const stem = entries === 0 ? target.stem : `${target.stem}~${entries + 1}`;
    entries += 1;
    const append = createAppender(target, stem, name, (line, message) => report(where, line, message));
    const reader = createRecordReader({
      onRecord: append,
      onError: (line, message) => report(where, line, message),
    });
    // Split as bytes: a JSON line's bytes become its raw record as they are (writer.ts).
    const splitter = createByteLineSplitter((bytes, line) =>
      reader.onLine(bytes.toString('utf8'), line, bytes),
    );
    current = { name: where, lines: () => splitter.lines };
    return {
      push: (chunk) => splitter.push(chunk),
      end() {
        splitter.end();
        reader.end();
      },
    };
  };
  try {
    await readSource(file.path, file.kind, openEntry);
    if (entries === 0) report(file.path, null, 'no .json or .jsonl member to load');
  } catch (error) {
    const at = current as { name: string; lines: () => number } | null;
    const message = error instanceof Error ? error.message : String(error);
    // A truncated archive still yields the events read before the break; they are kept.
    report(
      at?.name ?? file.path,
      at ? at.lines() + 1 : null,
      `unreadable: ${message}; loaded what came before`,
    );
  }
  return { target, outcome: { path: file.path, status: 'loaded', events: 0, errors } };
}

function createAppender(
  target: FileWriter,
  stem: string,
  entry: string,
  report: (line: number, message: string) => void,
): (record: SourceRecord) => void {
  let lastLine = 0;
  let sameLine = 0;
  return ({ record, line, text, bytes }) => {
    sameLine = line === lastLine ? sameLine + 1 : 0;
    lastLine = line;
    const id = sameLine === 0 ? eventId(stem, line) : `${eventId(stem, line)}.${sameLine}`;
    const winlogbeat = isWinlogbeatRecord(record);
    const reshaped = winlogbeat || isEvtxRecord(record);
    const flat = winlogbeat ? flattenWinlogbeat(record) : flattenWindowsEvent(record);
    let event: ReturnType<typeof normaliseEvent>;
    try {
      event = normaliseEvent(flat, id);
    } catch (error) {
      if (error instanceof InputError) return report(line, error.message.replace(/^event \S+: /, ''));
      throw error;
    }
    const asRecorded = !reshaped && text !== null;
    const rawJson = asRecorded ? text : JSON.stringify(flat);
    target.append(event, { line, entry, rawJson, flat, ...(asRecorded && bytes ? { rawBytes: bytes } : {}) });
  };
}
