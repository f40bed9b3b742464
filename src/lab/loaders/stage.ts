import { InputError } from '../../errors.js';
import { flattenWindowsEvent, isEvtxRecord } from '../flatten.js';
import { normaliseEvent } from '../normalise.js';
// Store modules directly, not the store's index nor writer.ts: this runs in worker threads, which
// need no database (DuckDB's native module costs a thread about 0.5 s of CPU to load).
import { eventId } from '../store/rows.js';
import type { SourceStager, StagedCounts, StagingPaths } from '../store/staging.js';
import { createSourceStager } from '../store/staging.js';
import type { EntrySink, SourceKind } from './archives.js';
import { readSource } from './archives.js';
import type { SourceRecord } from './lines.js';
import { createByteLineSplitter, createRecordReader } from './lines.js';
import { flattenWinlogbeat, isWinlogbeatRecord } from './winlogbeat.js';

/** A line (or a whole source, line null) that could not be loaded. */
export interface LoadError {
  /** The file, with `:<member>` for a member of an archive. */
  file: string;
  line: number | null;
  message: string;
}

/** One source to stage (plain data: it is posted to a worker thread). */
export interface StageJob {
  path: string;
  kind: SourceKind;
  fileId: number;
  stem: string;
  staging: StagingPaths;
}

export interface StageResult extends StagedCounts {
  /** The first errors (`errorsKeptPerFile`), in the order met. */
  errors: LoadError[];
  errorCount: number;
}

/** Errors kept per file; the rest are counted. */
export const errorsKeptPerFile = 20;

/**
 * Reads, normalises and stages one source (staging.ts); corrupt lines and sources are reported, never
 * fatal, and a truncated source keeps the events read before the break. Depends on the source alone,
 * so any thread can run it.
 */
export async function stageSource(job: StageJob): Promise<StageResult> {
  const errors: LoadError[] = [];
  let errorCount = 0;
  const report = (where: string, line: number | null, message: string) => {
    errorCount += 1;
    if (errors.length < errorsKeptPerFile) errors.push({ file: where, line, message });
  };
  const stager = createSourceStager(job.staging, job.fileId);
  let entries = 0;
  let current: { name: string; lines: () => number } | null = null;
  const openEntry = (name: string): EntrySink => {
    const where = job.kind === 'json' ? job.path : `${job.path}:${name}`;
    const stem = entries === 0 ? job.stem : `${job.stem}~${entries + 1}`;
    entries += 1;
    const append = createAppender(stager, stem, name, (line, message) => report(where, line, message));
    const reader = createRecordReader({
      onRecord: append,
      onError: (line, message) => report(where, line, message),
    });
    // Split as bytes: a JSON line's bytes become its raw record as they are (staging.ts).
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
    try {
      await readSource(job.path, job.kind, openEntry);
      if (entries === 0) report(job.path, null, 'no .json or .jsonl member to load');
    } catch (error) {
      const at = current as { name: string; lines: () => number } | null;
      const message = error instanceof Error ? error.message : String(error);
      // A truncated archive still yields the events read before the break; they are kept.
      report(
        at?.name ?? job.path,
        at ? at.lines() + 1 : null,
        `unreadable: ${message}; loaded what came before`,
      );
    }
    return { ...stager.finish(), errors, errorCount };
  } catch (error) {
    stager.discard();
    throw error;
  }
}

function createAppender(
  stager: SourceStager,
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
    stager.append(event, { line, entry, rawJson, flat, ...(asRecorded && bytes ? { rawBytes: bytes } : {}) });
  };
}
