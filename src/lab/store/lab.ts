import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { SiemBackend } from '../../capability/backends/types.js';
import type { EdrTelemetry } from '../edr.js';
import type { FlatEvent } from '../flatten.js';
import { loadSources } from '../loaders/load.js';
import { listSources } from '../loaders/sources.js';
import type { LabDatabase } from './database.js';
import { openLabDatabase } from './database.js';
import { rawDirOf, rawReaderOf } from './raw.js';
import { createStoreSiem } from './siem.js';
import { createStoreTelemetry } from './telemetry.js';
import { createStoreWriter } from './writer.js';

/** `<home>/lab/events.duckdb`. */
export function labStorePath(home: string): string {
  return join(home, 'lab', 'events.duckdb');
}

/** `<home>/lab/events.raw`: the raw records of the store's events, a file per loaded source (raw.ts). */
export function labRawDir(home: string): string {
  return rawDirOf(labStorePath(home));
}

/** An open event store with the backends that read it. */
export interface LabStore {
  readonly database: LabDatabase;
  readonly siem: SiemBackend;
  readonly telemetry: EdrTelemetry;
  /** Every event as its flattened raw record (Sigma field names), in load order, `batchSize` at a time. */
  scanFlatEvents(batchSize: number): AsyncIterable<Array<{ id: string; event: FlatEvent }>>;
  close(): void;
}

export interface OpenLabStoreOptions {
  /** Read-only opens share the file with other readers; the writer (`lab load`) needs it alone. */
  readOnly: boolean;
  /** The JSON-lines file loaded into a new store (the shipped sample incident), or null for an empty store. */
  seedFile: string | null;
}

/**
 * Opens `<home>/lab/events.duckdb`, creating it first with the seed file loaded when it does not exist.
 * Creation runs under a cross-process lock and builds the file under a temporary name, so the MCP
 * servers starting together neither race nor see a half-built store.
 */
export async function openLabStore(home: string, options: OpenLabStoreOptions): Promise<LabStore> {
  const path = labStorePath(home);
  if (!existsSync(path)) await createSeededStore(path, options.seedFile);
  const database = await openLabDatabase(path, { readOnly: options.readOnly });
  return {
    database,
    siem: createStoreSiem(database),
    telemetry: createStoreTelemetry(database),
    scanFlatEvents: (batchSize) => scanFlatEvents(database, batchSize),
    close: () => database.close(),
  };
}

async function createSeededStore(path: string, seedFile: string | null): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  const release = await lockfile.lock(path, {
    realpath: false,
    stale: 30_000,
    retries: { retries: 200, factor: 1.2, minTimeout: 20, maxTimeout: 250 },
  });
  try {
    if (existsSync(path)) return;
    const building = `${path}.building-${process.pid}`;
    rmSync(building, { force: true });
    const database = await openLabDatabase(building, { readOnly: false });
    try {
      const writer = await createStoreWriter(database);
      if (seedFile) {
        const { files } = await listSources([seedFile]);
        await loadSources(writer, files);
      }
    } finally {
      database.close();
    }
    rmSync(`${building}.wal`, { force: true });
    renameSync(building, path);
  } finally {
    await release();
  }
}

async function* scanFlatEvents(
  database: LabDatabase,
  batchSize: number,
): AsyncIterable<Array<{ id: string; event: FlatEvent }>> {
  const [range] = await database.all('SELECT coalesce(max(seq), 0) AS last FROM events');
  const last = Number(range?.last ?? 0);
  const raw = rawReaderOf(database);
  // Ranges of `seq` rather than OFFSET: each batch prunes to its row groups by zone map.
  for (let from = 0; from < last; from += batchSize) {
    const rows = await database.all(
      'SELECT id, file_id, raw_offset, raw_length FROM events WHERE seq > ?::BIGINT AND seq <= ?::BIGINT ORDER BY seq',
      [from, from + batchSize],
    );
    if (rows.length === 0) continue;
    const records = await raw.read(rows);
    yield rows.map((row, index) => ({
      id: String(row.id),
      event: JSON.parse(records[index] as string) as FlatEvent,
    }));
  }
}
