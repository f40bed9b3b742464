import { StateError } from '../errors.js';
import { type AuditRow, COLUMNS, literal, readChain } from './audit-chain.js';
import type { AuditJournal } from './audit-journal.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { encodeText } from './codec.js';
import type { Sql } from './database.js';
import type { AuditChainRow, AuditEventRecord, AuditStore, QueuedAuditEvent } from './types.js';
import type { ResponseBuffer } from './wire.js';

/** `prevHash` of the first event of every run. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * The chain link: SHA-256 of the previous hash and the canonical JSON of
 * `{ at, data, runId, seq, type }`, given the canonical JSON of `data` (`body`). Built by
 * concatenation in JCS key order, so it equals `auditEventHash` without re-serialising `data`.
 */
export function auditBodyHash(
  prevHash: string,
  event: Pick<AuditEventRecord, 'runId' | 'seq' | 'at' | 'type'> & { body: string },
): string {
  const { runId, seq, at, type, body } = event;
  return sha256Hex(
    `${prevHash}{"at":${JSON.stringify(at)},"data":${body},"runId":${JSON.stringify(runId)},"seq":${Number.isSafeInteger(seq) ? seq : canonicalJson(seq)},"type":${JSON.stringify(type)}}`,
  );
}

/** The chain link of an event given as a value: SHA-256 of the previous hash and its canonical JSON. */
export function auditEventHash(
  prevHash: string,
  event: Pick<AuditEventRecord, 'runId' | 'seq' | 'at' | 'type' | 'data'>,
): string {
  const { runId, seq, at, type, data } = event;
  return sha256Hex(prevHash + canonicalJson({ runId, seq, at, type, data }));
}

/** Events of one group commit (one statement). */
const MAX_BATCH = 2000;
/** Batches up to this size are one literal INSERT; larger ones one COPY (cheaper per row). */
const COPY_FROM = 16;
/** Journaled events waiting for the database beyond which an append also waits for it (bounds memory). */
const MAX_BACKLOG = 10_000;
/** Characters of journal lines from which they are written at once rather than with the rest of the microtasks' appends. */
const MAX_JOURNAL_WRITE = 1 << 20;
/** Journal length from which it is emptied once the database holds all of it. */
const JOURNAL_RESET_BYTES = 1 << 20;

interface Head {
  seq: number;
  hash: string;
}

interface PendingAppend {
  record: AuditEventRecord;
  body: string;
  /** The event's journal line (its COPY row) until it is journaled. */
  line?: string;
  /** Once journaled: the line's UTF-8 bytes, [start, end) of the journal write that carried it. */
  journaled?: Uint8Array;
  start?: number;
  end?: number;
  resolve: (record: AuditEventRecord) => void;
  reject: (error: unknown) => void;
}

/** Bulk statements of the embedded database, beside the parameterised `Sql` queries. */
export interface AuditWriter {
  /** Runs one statement by the simple protocol (no parameters). */
  exec(text: string): Promise<void>;
  /** `COPY ... FROM` with `data` in PostgreSQL's text format. */
  copyFrom(statement: string, data: Blob): Promise<void>;
  /**
   * Runs `text` by the simple query protocol and returns the backend's messages as they came, unparsed
   * (see wire.ts): far cheaper than decoded rows for reading a long chain.
   */
  raw?(text: string, into?: ResponseBuffer): Promise<Buffer>;
}

function toRecord(row: AuditRow): AuditEventRecord {
  return {
    id: row.id,
    runId: row.run_id,
    seq: row.seq,
    at: row.at,
    type: row.type,
    data: row.body !== null ? JSON.parse(row.body) : row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * An appended event as its append returns it. `data` is parsed from the canonical text on first read:
 * most callers never read it, and a parsed copy of every event held until its database write was much
 * of an append's allocation.
 */
function eventRecord(
  id: string,
  runId: string,
  seq: number,
  at: string,
  type: string,
  body: string,
  prevHash: string,
  hash: string,
): AuditEventRecord {
  let data: unknown;
  let parsed = false;
  return {
    id,
    runId,
    seq,
    at,
    type,
    get data() {
      if (!parsed) {
        data = JSON.parse(body);
        parsed = true;
      }
      return data;
    },
    prevHash,
    hash,
  };
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One field of COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyField(text: string): string {
  const encoded = encodeText(text);
  return COPY_SPECIAL.test(encoded) ? encoded.replace(COPY_SPECIALS, (char) => COPY_ESCAPES[char]!) : encoded;
}

/**
 * One `audit_events` row in COPY's text format (a journal line): id, run_id, seq, at, type, body, prev_hash, hash.
 * The body is canonical JSON, which writes NUL, lone surrogates and line breaks as escapes, so of what
 * the codec and COPY escape it can hold only U+E000 and backslashes.
 */
function copyRow(record: AuditEventRecord, body: string): string {
  const field = body.includes('\uE000')
    ? copyField(body)
    : body.includes('\\')
      ? body.replaceAll('\\', '\\\\')
      : body;
  return `${copyField(record.id)}\t${copyField(record.runId)}\t${record.seq}\t${copyField(record.at)}\t${copyField(record.type)}\t${field}\t${record.prevHash}\t${record.hash}\n`;
}

/**
 * Audit table: per-run hash chains. An append is numbered and hashed at once, in memory, in call
 * order (the chain head of a run is read from the table once per store, then kept). Heads can stay in
 * memory because the store holds the cross-process lock for its whole life.
 *
 * With a journal (the store as `openStore` opens it): the event is written to the journal by a
 * synchronous write (one for the appends of a run of the microtask queue, see writeJournal) and its
 * append resolves then; the database takes it in behind, by group commit (below), and every read waits
 * for that first. While more than MAX_BACKLOG events wait for the database, an append resolves only
 * once its own database write is done. A journal write that fails leaves nothing behind: its appends
 * are rejected and each of their runs' next append takes the first lost number. A database
 * write that fails stops the audit store: every later append and read is rejected (the events stay in
 * the journal, and the next opening of the store writes them).
 *
 * Without a journal: an append resolves only once its event is committed to the database. If a
 * write fails, none of its batch was written: those appends, and every later queued append of the
 * same runs (their hashes link to the lost events), are rejected and the heads re-read.
 *
 * Group commit: whatever is queued while a write runs goes into the next single statement (a literal
 * INSERT, or a COPY for larger batches); batches commit in queue order, so once an event is committed
 * every earlier event of its run is too.
 */
export function createAuditStore(
  sql: Sql,
  writer?: AuditWriter,
  journal?: AuditJournal,
): AuditStore & { close(): Promise<void> } {
  const heads = new Map<string, Head>();
  const loading = new Map<string, Promise<void>>();
  let pending: PendingAppend[] = [];
  /** Numbered appends waiting for their journal write (made at the end of the microtasks queued with them). */
  let unjournaled: PendingAppend[] = [];
  let unjournaledBytes = 0;
  let flushing: Promise<void> | null = null;
  let failure: Error | null = null;

  async function loadHead(runId: string): Promise<void> {
    const rows = await sql.query<Head>(
      'SELECT seq, hash FROM audit_events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1',
      [runId],
    );
    heads.set(runId, rows[0] ?? { seq: 0, hash: AUDIT_GENESIS_HASH });
  }

  function sequence(
    runId: string,
    type: string,
    at: string,
    body: string,
    item: Omit<PendingAppend, 'record' | 'body' | 'line'>,
  ): AuditEventRecord {
    const previous = heads.get(runId)!;
    const seq = previous.seq + 1;
    const hash = auditBodyHash(previous.hash, { runId, seq, at, type, body });
    const record = eventRecord(`${runId}:${seq}`, runId, seq, at, type, body, previous.hash, hash);
    if (journal && failure) {
      item.reject(failure);
      return record;
    }
    heads.set(runId, { seq, hash });
    const append: PendingAppend = { record, body, resolve: item.resolve, reject: item.reject };
    if (journal) {
      append.line = copyRow(record, body);
      unjournaled.push(append);
      unjournaledBytes += append.line.length;
      // Appends made in one run of the microtask queue (those of a turn of the event loop, and every
      // run's next append after a write resolved them together) share one journal write.
      if (unjournaledBytes >= MAX_JOURNAL_WRITE) writeJournal();
      else if (unjournaled.length === 1) queueMicrotask(writeJournal);
      return record;
    }
    queue(append);
    return record;
  }

  /**
   * Writes the numbered appends to the journal in one write; they are durable then and resolve. If the
   * write fails, none of them was written: they are rejected and each run's head goes back to before
   * its first one (later appends take their numbers). No append is numbered while this runs.
   */
  function writeJournal(): void {
    if (unjournaled.length === 0) return;
    const batch = unjournaled;
    unjournaled = [];
    unjournaledBytes = 0;
    try {
      if (failure) throw failure;
      // Encoded once: the same bytes go to the database's COPY, and the pending events hold no strings.
      let length = 0;
      for (const item of batch) length += Buffer.byteLength(item.line!);
      const bytes = Buffer.allocUnsafe(length);
      let offset = 0;
      for (const item of batch) {
        item.journaled = bytes;
        item.start = offset;
        offset += bytes.write(item.line!, offset);
        item.end = offset;
        item.line = undefined;
      }
      journal!.append(bytes);
    } catch (error) {
      for (let index = batch.length - 1; index >= 0; index--) {
        const { record } = batch[index]!;
        heads.set(record.runId, { seq: record.seq - 1, hash: record.prevHash });
      }
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) {
      // Durable now (resolving again once the database has it changes nothing).
      if (pending.length < MAX_BACKLOG) item.resolve(item.record);
      queue(item);
    }
  }

  function queue(append: PendingAppend): void {
    pending.push(append);
    // The first write waits for the end of this turn of the event loop, so appends made together
    // (a call's request and its decision) share one commit; whatever is queued while a write runs
    // goes into the next one.
    flushing ??= new Promise<void>((resolve) => setImmediate(() => void flush().then(resolve)));
  }

  async function write(batch: readonly PendingAppend[]): Promise<void> {
    if (writer && batch.length >= COPY_FROM) {
      const parts: (string | Uint8Array)[] = [];
      for (let index = 0; index < batch.length; ) {
        const { record, body, journaled, start } = batch[index]!;
        if (!journaled) {
          parts.push(copyRow(record, body));
          index++;
          continue;
        }
        // The lines of one journal write lie together: one part for each run of them.
        let end = batch[index]!.end!;
        for (
          index++;
          index < batch.length && batch[index]!.journaled === journaled && batch[index]!.start === end;
          index++
        )
          end = batch[index]!.end!;
        parts.push(journaled.subarray(start, end));
      }
      await writer.copyFrom(
        "COPY audit_events (id, run_id, seq, at, type, body, prev_hash, hash) FROM '/dev/blob'",
        new Blob(parts),
      );
      return;
    }
    if (writer) {
      const values = batch.map(
        ({ record, body }) =>
          `(${literal(record.id)}, ${literal(record.runId)}, ${record.seq}, ${literal(record.at)}, ${literal(record.type)}, ${literal(body)}, '${record.prevHash}', '${record.hash}')`,
      );
      await writer.exec(
        `INSERT INTO audit_events (id, run_id, seq, at, type, body, prev_hash, hash) VALUES ${values.join(', ')}`,
      );
      return;
    }
    const params: unknown[] = [];
    const values: string[] = [];
    for (const { record, body } of batch) {
      const base = params.length;
      values.push(
        `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}, $${base + 8})`,
      );
      params.push(
        record.id,
        record.runId,
        record.seq,
        record.at,
        record.type,
        body,
        record.prevHash,
        record.hash,
      );
    }
    await sql.query(
      `INSERT INTO audit_events (id, run_id, seq, at, type, body, prev_hash, hash) VALUES ${values.join(', ')}`,
      params,
    );
  }

  async function flush(): Promise<void> {
    try {
      while (pending.length > 0) {
        const batch = pending.length <= MAX_BATCH ? pending : pending.slice(0, MAX_BATCH);
        pending = pending.length <= MAX_BATCH ? [] : pending.slice(MAX_BATCH);
        try {
          await write(batch);
          for (const item of batch) item.resolve(item.record);
        } catch (error) {
          if (journal) {
            // The events are safe in the journal, but the database no longer follows it.
            failure = new StateError(
              `audit events could not be written to the database (${(error as Error).message}); they are kept in the audit journal and written when the store is next opened`,
              { cause: error },
            );
            for (const item of [...batch, ...pending]) item.reject(failure);
            pending = [];
            return;
          }
          // Nothing of the batch was written (one statement). Later queued events of these runs
          // link to events that do not exist: reject them as well and read the heads afresh.
          const failed = new Set(batch.map((item) => item.record.runId));
          const later = pending.filter((item) => failed.has(item.record.runId));
          pending = pending.filter((item) => !failed.has(item.record.runId));
          for (const runId of failed) heads.delete(runId);
          for (const item of [...batch, ...later]) item.reject(error);
        }
      }
      // The database holds every journaled event now.
      if (journal && journal.size >= JOURNAL_RESET_BYTES) {
        try {
          journal.reset();
        } catch {
          // A longer journal only makes the next opening skip over events the database holds.
        }
      }
    } finally {
      flushing = null;
    }
  }

  /** Resolves once every event appended so far is in the database; rejects once that has failed. */
  async function written(): Promise<void> {
    for (writeJournal(); flushing; writeJournal()) await flushing;
    if (failure) throw failure;
  }

  function enqueue(runId: string, type: string, data: unknown, at: string): Promise<QueuedAuditEvent> {
    return new Promise<QueuedAuditEvent>((numbered, reject) => {
      // Serialised before queueing: a value with no JSON form fails alone and never breaks the chain.
      const body = canonicalJson(data ?? null);
      let item!: Omit<PendingAppend, 'record' | 'body' | 'line'>;
      const committed = new Promise<AuditEventRecord>((resolve, rejectCommit) => {
        item = { resolve, reject: rejectCommit };
      });
      // The caller learns of a failed write through `committed`; unobserved, it must not end the process.
      committed.catch(() => {});
      const run = () => numbered({ event: sequence(runId, type, at, body, item), committed });
      const waiting = loading.get(runId);
      if (!waiting && heads.has(runId)) {
        run();
        return;
      }
      // The head is being read (or must be): number this append after it and after every append
      // already waiting, in call order. The chain of waiting appends ends when its last one ran.
      const step = (waiting ?? loadHead(runId)).then(() => {
        if (!heads.has(runId)) throw new Error(`audit head of run ${runId} could not be read`);
        run();
      });
      step.catch(reject);
      const settled = step.then(
        () => {},
        () => {},
      );
      loading.set(runId, settled);
      void settled.then(() => {
        if (loading.get(runId) === settled) loading.delete(runId);
      });
    });
  }

  return {
    enqueue,
    written,

    async append(runId, type, data, at) {
      const { committed } = await enqueue(runId, type, data, at);
      return committed;
    },

    async close() {
      // Events the database could not take stay in the journal for the next opening.
      const complete = await written().then(
        () => true,
        () => false,
      );
      try {
        if (complete) journal?.discard();
      } catch {
        // The lock was lost: the file may be another process's by now, so it is left as it is.
      } finally {
        journal?.close();
      }
    },

    async list(runId) {
      await written();
      const rows = await sql.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_events WHERE run_id = $1 ORDER BY seq`,
        [runId],
      );
      return rows.map(toRecord);
    },

    async runIds() {
      await written();
      const rows = await sql.query<{ run_id: string }>(
        'SELECT DISTINCT run_id FROM audit_events ORDER BY run_id',
      );
      return rows.map((row) => row.run_id);
    },

    async chain(runId) {
      const rows: AuditChainRow[] = [];
      for await (const page of pages(runId, false)) for (const row of page) rows.push(row);
      return rows;
    },

    chainPages: (runId) => pages(runId, true),
  };

  /** A run's chain in pages, once the database holds every appended event; see readChain. */
  async function* pages(runId: string, digest: boolean): AsyncGenerator<AuditChainRow[]> {
    await written();
    yield* readChain(sql, writer?.raw?.bind(writer), runId, digest);
  }
}
