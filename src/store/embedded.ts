import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { ConfigError, StateError } from '../errors.js';
import { openDatabase, type Sql } from './database.js';
import { acquireStoreLock } from './lock.js';
import type { Migration } from './migrations.js';
import { migrate } from './migrations.js';

export interface EmbeddedDatabaseOptions {
  /** Directory of this database: the PGlite data dir is `<dir>/db`, its lock `<dir>/db.lock`. */
  dir: string;
  /** This database's own migrations, applied (if pending) on every open. */
  migrations: readonly Migration[];
  /** How long to wait for another process to finish its operation; default 15000. */
  lockTimeoutMs?: number;
  /** Age after which a lock left by a dead process is taken over; default 10000, minimum 2000. */
  lockStaleMs?: number;
}

/** Runs one unit of work against a small PGlite database that several processes share. */
export interface EmbeddedDatabase {
  /**
   * Runs `work` in one transaction. The database is locked, opened and migrated for the call and
   * closed and unlocked after it (calls queued meanwhile in this process share the opening), so
   * any number of processes can use the same database.
   */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

interface PendingWork {
  work: (sql: Sql) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

// Calls of one process wait here; calls queued while the database is open share that opening.
const pendingByDir = new Map<string, PendingWork[]>();

/** Opening and closing dominate a call (about 0.2 s); a batch still releases the lock regularly. */
const maxBatch = 50;

/** Binds a directory to its migrations; nothing is opened until `run`. */
export function createEmbeddedDatabase(options: EmbeddedDatabaseOptions): EmbeddedDatabase {
  if (!options.dir) throw new ConfigError('embedded database directory is empty');
  const dir = path.resolve(options.dir);
  return {
    run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const item: PendingWork = { work, resolve: resolve as (value: unknown) => void, reject };
        const pending = pendingByDir.get(dir);
        if (pending) {
          pending.push(item);
          return;
        }
        pendingByDir.set(dir, [item]);
        void drain(dir, options);
      });
    },
  };
}

/** Runs queued work in batches, each batch under one lock and one opening, until the queue is empty. */
async function drain(dir: string, options: EmbeddedDatabaseOptions): Promise<void> {
  const pending = pendingByDir.get(dir) ?? [];
  while (pending.length > 0) {
    try {
      await withOpenDatabase(dir, options, async (db, assertLocked) => {
        for (let done = 0; done < maxBatch && pending.length > 0; done += 1) {
          const item = pending.shift()!;
          try {
            item.resolve(await inTransaction(db, assertLocked, item.work));
          } catch (error) {
            item.reject(error);
          }
        }
      });
    } catch (error) {
      // The lock or the opening failed: every waiting call learns why.
      for (const item of pending.splice(0)) item.reject(error);
    }
  }
  pendingByDir.delete(dir);
}

async function inTransaction(
  db: PGlite,
  assertLocked: () => void,
  work: (sql: Sql) => Promise<unknown>,
): Promise<unknown> {
  const result = await db.transaction(async (tx) => {
    const sql: Sql = {
      async query<Row>(text: string, params?: unknown[]) {
        assertLocked();
        return (await tx.query<Row>(text, params)).rows;
      },
    };
    return work(sql);
  });
  assertLocked();
  return result;
}

async function withOpenDatabase(
  dir: string,
  options: EmbeddedDatabaseOptions,
  use: (db: PGlite, assertLocked: () => void) => Promise<void>,
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  let lostLock: Error | null = null;
  const assertLocked = () => {
    if (lostLock)
      throw new StateError(`database at ${dir} lost its lock (${lostLock.message})`, { cause: lostLock });
  };
  const release = await acquireStoreLock(dir, {
    timeoutMs: options.lockTimeoutMs ?? 15_000,
    staleMs: options.lockStaleMs ?? 10_000,
    onCompromised: (error) => {
      lostLock = error;
    },
  });
  let db: PGlite | null = null;
  try {
    try {
      db = await openDatabase(dir, assertLocked);
    } catch (error) {
      if (error instanceof StateError) throw error;
      throw new StateError(`cannot open the database in ${dir}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await migrate(db, options.migrations);
    await use(db, assertLocked);
  } finally {
    // Once another process may own the data dir, even a clean shutdown (a checkpoint) would write into it.
    if (!lostLock) {
      try {
        await db?.close();
      } finally {
        await release();
      }
    }
  }
}
