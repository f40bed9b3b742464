import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { StateError } from '../errors.js';

/**
 * The audit journal: an append-only file beside the database (`<home>/db.journal`) to which every
 * audit event is written, by one synchronous write, before its append resolves. The database takes
 * the events in behind (group commits while the process is otherwise idle); a store opened after a
 * crash first copies in whatever the journal holds beyond the database. A write that returned is in
 * the operating system's file cache, so it survives the process being killed (SIGKILL), as a PGlite
 * commit does (PGlite runs with fsync off): neither survives a power cut.
 *
 * Each line is one `audit_events` row in PostgreSQL's COPY text format:
 * id, run_id, seq, at, type, body, prev_hash, hash, tab-separated.
 */
export interface AuditJournal {
  /** Appends lines (text or UTF-8 bytes); throws (after cutting the file back to its length before) if they were not written whole. */
  append(lines: string | Uint8Array): void;
  /** Bytes written since the journal was last emptied. */
  readonly size: number;
  /** Empties the journal: call only when every line in it is committed to the database. */
  reset(): void;
  close(): void;
  /** Closes and removes the journal: call only when every line in it is committed to the database. */
  discard(): void;
}

export function auditJournalPath(home: string): string {
  return path.join(home, 'db.journal');
}

/**
 * Opens the journal for appending (creating it); only the holder of the store lock may, so every write
 * first calls `assertLocked` (which throws once the lock is lost: another process may own the file then).
 */
export function openAuditJournal(file: string, assertLocked: () => void = () => {}): AuditJournal {
  const descriptor = openSync(file, 'a');
  let size = 0;
  try {
    size = fstatSync(descriptor).size;
  } catch (error) {
    closeSync(descriptor);
    throw error;
  }
  let closed = false;
  return {
    append(lines) {
      if (closed) throw new StateError(`audit journal ${file} is closed`);
      assertLocked();
      const bytes = typeof lines === 'string' ? Buffer.from(lines, 'utf8') : lines;
      try {
        let written = 0;
        while (written < bytes.length) written += writeSync(descriptor, bytes, written);
      } catch (error) {
        // A partial line must not stay in front of the next one.
        try {
          ftruncateSync(descriptor, size);
        } catch {
          // The file is then longer than `size`; its torn last line is dropped when it is next read.
        }
        throw new StateError(`cannot write the audit journal ${file}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      size += bytes.length;
    },
    get size() {
      return size;
    },
    reset() {
      assertLocked();
      ftruncateSync(descriptor, 0);
      size = 0;
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(descriptor);
    },
    discard() {
      this.close();
      assertLocked();
      rmSync(file, { force: true });
    },
  };
}

const HASH = /^[0-9a-f]{64}$/;
const SEQ = /^[1-9][0-9]{0,9}$/;

/**
 * Copies the journal's events that the database does not hold yet into `audit_events`, in one
 * transaction, then empties the journal. An event is missing when its sequence number is above the
 * highest stored for its run. A last line without its newline was cut by a crash before its append
 * returned, so it was never acknowledged: it is dropped. Returns the number of events copied in.
 */
export async function recoverAuditJournal(db: PGlite, file: string): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new StateError(`cannot read the audit journal ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  if (complete.length > 0) {
    const lines = complete.split('\n');
    lines.pop();
    for (const [index, line] of lines.entries()) {
      const fields = line.split('\t');
      if (fields.length !== 8 || !SEQ.test(fields[2]!) || !HASH.test(fields[6]!) || !HASH.test(fields[7]!)) {
        throw new StateError(
          `audit journal ${file} line ${index + 1} is not an audit event row; it holds events not yet copied ` +
            'into the database, so the store will not open over it. Restore the file, or move it away to open ' +
            'the store without those events (`warden audit verify` then reports what is missing).',
        );
      }
    }
  }
  const copied =
    complete.length === 0
      ? 0
      : await db.transaction(async (tx) => {
          await tx.exec(
            `CREATE TEMP TABLE audit_journal (id text, run_id text, seq integer, at text, type text, body text, prev_hash text, hash text) ON COMMIT DROP`,
          );
          await tx.query("COPY audit_journal FROM '/dev/blob'", [], { blob: new Blob([complete]) });
          // One statement: its subquery sees the table as it was before the statement's own rows.
          const result = await tx.query(
            `INSERT INTO audit_events (id, run_id, seq, at, type, body, prev_hash, hash)
               SELECT id, run_id, seq, at, type, body, prev_hash, hash FROM audit_journal AS j
                WHERE j.seq > coalesce((SELECT max(a.seq) FROM audit_events AS a WHERE a.run_id = j.run_id), 0)
                ORDER BY run_id, seq`,
          );
          return result.affectedRows ?? 0;
        });
  if (text.length > 0) {
    const descriptor = openSync(file, 'r+');
    try {
      ftruncateSync(descriptor, 0);
    } finally {
      closeSync(descriptor);
    }
  }
  return copied;
}
