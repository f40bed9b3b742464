import { availableParallelism } from 'node:os';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { StateError } from '../../errors.js';
import { createTablesSql, storeSchemaVersion } from './schema.js';

export type Row = Record<string, unknown>;

/** One open connection to a lab store file. */
export interface LabDatabase {
  readonly path: string;
  readonly readOnly: boolean;
  readonly connection: DuckDBConnection;
  /** Runs a parameterised query and returns its rows as plain objects (BIGINT as bigint). */
  all(sql: string, params?: DuckDBValue[]): Promise<Row[]>;
  /** `types` (one per parameter) when a value's type cannot be inferred, such as an empty list. */
  run(sql: string, params?: DuckDBValue[], types?: DuckDBType[]): Promise<void>;
  close(): void;
}

/**
 * Opens the store. Read-only opens share the file with other read-only processes; a read-write
 * open needs it to itself, so a busy store fails with a `StateError` saying who may hold it.
 */
export async function openLabDatabase(path: string, options: { readOnly: boolean }): Promise<LabDatabase> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, {
      access_mode: options.readOnly ? 'READ_ONLY' : 'READ_WRITE',
      // The MCP servers run beside the agent: keep each reader's share of the machine modest.
      threads: options.readOnly ? '2' : String(availableParallelism()),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/lock/i.test(message)) {
      throw new StateError(
        `the lab store ${path} is in use by another process (a running \`warden mcp\`, triage or ` +
          `\`warden lab load\`); stop it and retry`,
        { cause: error },
      );
    }
    throw new StateError(`cannot open the lab store ${path}: ${message}`, { cause: error });
  }
  const connection = await instance.connect();
  // One statement at a time on the connection: MCP tool calls may arrive concurrently.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  };
  const database: LabDatabase = {
    path,
    readOnly: options.readOnly,
    connection,
    all: (sql, params) =>
      serial(async () => (await connection.runAndReadAll(sql, params)).getRowObjectsJS() as Row[]),
    run: (sql, params, types) =>
      serial(async () => {
        await connection.run(sql, params, types);
      }),
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
  if (!options.readOnly) await database.run(createTablesSql);
  // The default (16 MB) checkpoints after nearly every loaded file, recompressing as the store grows;
  // measured over the Security-Datasets folder, commits took 17 s with it and 5 s with 1 GB.
  if (!options.readOnly) await database.run(`SET checkpoint_threshold = '1GB'`);
  await checkVersion(database);
  return database;
}

async function checkVersion(database: LabDatabase): Promise<void> {
  const rows = await database.all(`SELECT value FROM meta WHERE key = 'schema_version'`);
  const version = rows[0]?.value;
  if (version !== String(storeSchemaVersion)) {
    database.close();
    throw new StateError(
      `the lab store ${database.path} has schema version ${String(version)}, this Warden expects ` +
        `${storeSchemaVersion}; delete the file and load the data again`,
    );
  }
}
