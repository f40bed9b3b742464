import { availableParallelism } from 'node:os';
// The writer module directly, not the store's index: the store seeds itself through this loader.
import type { FileTarget, StoreWriter } from '../store/writer.js';
import type { SourceFile } from './sources.js';
import { hashFile, sourceStem } from './sources.js';
import type { LoadError, StageResult } from './stage.js';
import { createStager } from './stage-pool.js';

export type { LoadError } from './stage.js';

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
  /**
   * Worker threads staging sources in parallel (default: one per core when there are several sources);
   * below two, sources are staged on the calling thread. The store is the same either way.
   */
  workers?: number;
}

/**
 * Sources staged ahead of the commits, per staging thread (their staged files wait on disk). Sources
 * differ in size a hundredfold: with one ahead per thread, a thread done with a small source idled
 * until the other thread's large one was staged and committed.
 */
const stagedAheadPerThread = 4;

interface Pending {
  file: SourceFile;
  target: FileTarget | null;
  staged: Promise<StageResult> | null;
}

/**
 * Loads the files in order (see `StoreWriter.commit` for the transactions); corrupt lines and sources are
 * reported, never fatal.
 * Sources are read, normalised and staged ahead (on worker threads when there are several), while the
 * bulk insert of the earlier ones runs (DuckDB); commits are made in file order, which numbers events
 * and command lines as a one-by-one load would.
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
  const stager = createStager(
    options.workers ?? (files.length > 1 ? Math.min(availableParallelism(), files.length) : 0),
  );
  const queue: Pending[] = [];
  let next = 0;
  const ahead = stager.parallel > 1 ? stager.parallel * stagedAheadPerThread : 1;
  // Begins files (in order: that fixes their ids and stems) until `ahead` are staged or being staged.
  const refill = async () => {
    while (next < files.length && queue.filter((item) => item.target).length < ahead) {
      const file = files[next] as SourceFile;
      next += 1;
      const sha256 = await hashFile(file.path);
      const target = writer.beginFile({ path: file.path, sha256, stem: sourceStem(file.path) });
      const staged = target
        ? stager.stage({
            path: file.path,
            kind: file.kind,
            fileId: target.fileId,
            stem: target.stem,
            staging: target.staging,
          })
        : null;
      // Awaited in turn below; a rejection must not go unhandled meanwhile.
      staged?.catch(() => undefined);
      queue.push({ file, target, staged });
    }
  };
  let current: Pending | null = null;
  let committing: Promise<{ events: number }> | null = null;
  try {
    await refill();
    for (current = queue.shift() ?? null; current; current = queue.shift() ?? null) {
      const { file, target, staged } = current;
      if (!target || !staged) {
        record(file, { path: file.path, status: 'skipped', events: 0, errors: 0 });
        await refill();
        continue;
      }
      const result = await staged;
      summary.errorCount += result.errorCount;
      summary.errors.push(...result.errors);
      committing = writer.commit(target, result, { errors: result.errorCount });
      // Caught at once: a rejected commit must not go unhandled while the next files are begun.
      committing.catch(() => undefined);
      await refill();
      const { events } = await committing;
      committing = null;
      current = null;
      record(file, {
        path: file.path,
        status: events > 0 ? 'loaded' : 'failed',
        events,
        errors: result.errorCount,
      });
    }
    await writer.finish();
    return summary;
  } catch (error) {
    // A commit still running (the next file could not be begun) ends first; a committed file stays.
    if (
      committing &&
      (await committing.then(
        () => true,
        () => false,
      ))
    )
      current = null;
    // The files committed before the error stay: their transaction is committed (a failed commit rolled
    // its transaction back already, and a failure here leaves the first error the one to report).
    await writer.flush().catch(() => undefined);
    for (const item of current ? [current, ...queue] : queue) {
      if (!item.target) continue;
      await item.staged?.catch(() => undefined);
      writer.abort(item.target);
    }
    throw error;
  } finally {
    await stager.close();
  }
}
