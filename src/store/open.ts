import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { ConfigError, StateError } from '../errors.js';
import { createApprovalStore } from './approvals.js';
import { type AuditWriter, createAuditStore } from './audit.js';
import {
  type AuditJournal,
  auditJournalPath,
  openAuditJournal,
  recoverAuditJournal,
} from './audit-journal.js';
import { createAutonomyStore } from './autonomy.js';
import { openDatabase, type Sql } from './database.js';
import { createFeedbackStore } from './feedback.js';
import { acquireStoreLock } from './lock.js';
import { migrate } from './migrations.js';
import { createRunStore } from './runs.js';
import type { Store } from './types.js';
import { rawQuery } from './wire.js';

export interface OpenStoreOptions {
  /** Warden's home directory (e.g. `.warden`); created when missing. The database lives in `<home>/db`. */
  home: string;
  /** How long to wait for another process to release the store; default 15000. */
  lockTimeoutMs?: number;
  /** Age after which a lock left by a dead process is taken over; default 10000, minimum 2000. */
  lockStaleMs?: number;
}

/** Opens the embedded store, holding its cross-process lock until `close()`. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (!options.home) throw new ConfigError('store home is empty; set the Warden home directory');
  const home = path.resolve(options.home);
  fs.mkdirSync(home, { recursive: true });

  let lostLock: Error | null = null;
  const assertLocked = () => {
    if (lostLock) {
      throw new StateError(
        `store at ${home} lost its lock (${lostLock.message}); stop and reopen the store`,
        {
          cause: lostLock,
        },
      );
    }
  };
  const release = await acquireStoreLock(home, {
    timeoutMs: options.lockTimeoutMs ?? 15_000,
    staleMs: options.lockStaleMs ?? 10_000,
    onCompromised: (error) => {
      lostLock = error;
    },
  });
  // Once another process may own the data dir, even a clean shutdown (a checkpoint) would write into it.
  const shutdown = async (db: PGlite | null) => {
    if (lostLock) return;
    try {
      await db?.close();
    } finally {
      await release();
    }
  };

  let db: PGlite;
  try {
    db = await openDatabase(home, assertLocked);
  } catch (error) {
    await shutdown(null);
    if (error instanceof StateError) throw error;
    throw new StateError(`cannot open the store database in ${home}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let journal: AuditJournal;
  try {
    await migrate(db);
    // The audit store writes string literals; they are only safe with standard-conforming strings.
    const [setting] = (
      await db.query<{ standard_conforming_strings: string }>('SHOW standard_conforming_strings')
    ).rows;
    if (setting?.standard_conforming_strings !== 'on')
      throw new StateError(`the store database in ${home} does not use standard_conforming_strings`);
    // Events a killed process wrote to the audit journal but not yet to the database.
    await recoverAuditJournal(db, auditJournalPath(home));
    journal = openAuditJournal(auditJournalPath(home), assertLocked);
    assertLocked();
  } catch (error) {
    await shutdown(db);
    throw error;
  }

  let closing: Promise<void> | null = null;
  // Set once the audit store has written its last events, just before the database closes.
  let sealed = false;
  const sql: Sql = {
    async query<Row>(text: string, params?: unknown[]) {
      if (closing) throw new StateError(`store at ${home} is closed`);
      assertLocked();
      return (await db.query<Row>(text, params)).rows;
    },
  };

  const writer: AuditWriter = {
    async exec(text) {
      if (sealed) throw new StateError(`store at ${home} is closed`);
      assertLocked();
      await db.exec(text);
    },
    async copyFrom(statement, data) {
      if (sealed) throw new StateError(`store at ${home} is closed`);
      assertLocked();
      await db.query(statement, [], { blob: data });
    },
    async raw(text, into) {
      if (closing) throw new StateError(`store at ${home} is closed`);
      assertLocked();
      return rawQuery(db, text, into);
    },
  };

  const audit = createAuditStore(sql, writer, journal);
  return {
    runs: createRunStore(sql),
    approvals: createApprovalStore(sql),
    audit,
    autonomy: createAutonomyStore(sql),
    feedback: createFeedbackStore(sql),
    close() {
      closing ??= audit.close().finally(() => {
        sealed = true;
        return shutdown(db);
      });
      return closing;
    },
  };
}
