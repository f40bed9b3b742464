import { join } from 'node:path';
import { sampleLabDir } from '../sample.js';
import { openLabStore } from '../store/lab.js';
import { createStoreWriter } from '../store/writer.js';
import type { FileOutcome, LoadSummary } from './load.js';
import { loadSources } from './load.js';
import type { SourceFile } from './sources.js';
import { listSources } from './sources.js';

export interface LabLoadOptions {
  /** Loaded first when the store does not exist yet (default: the shipped sample incident; null: none). */
  seedFile?: string | null;
  onStart?: (files: readonly SourceFile[]) => void;
  onFile?: (file: SourceFile, outcome: FileOutcome) => void;
  /** Worker threads staging sources (`LoadOptions.workers`). */
  workers?: number;
}

/** The outcome of `warden lab load`; `problems` are paths that were missing or of an unknown kind. */
export interface LabLoadResult extends LoadSummary {
  problems: Array<{ path: string; message: string }>;
}

/**
 * Loads files and directories (recursively) into `<home>/lab/events.duckdb` as its only writer.
 * Throws `StateError` when another process has the store open.
 */
export async function loadLabPaths(
  home: string,
  paths: readonly string[],
  options: LabLoadOptions = {},
): Promise<LabLoadResult> {
  const { files, problems } = await listSources(paths);
  const store = await openLabStore(home, {
    readOnly: false,
    seedFile: options.seedFile === undefined ? join(sampleLabDir, 'sample-incident.jsonl') : options.seedFile,
  });
  try {
    options.onStart?.(files);
    const writer = await createStoreWriter(store.database);
    const summary = await loadSources(writer, files, {
      ...(options.onFile ? { onFile: options.onFile } : {}),
      ...(options.workers === undefined ? {} : { workers: options.workers }),
    });
    return { ...summary, problems };
  } finally {
    store.close();
  }
}
