import { canonicalJson, sha256Hex } from './canonical.js';
import { encodeText } from './codec.js';
import type { Sql } from './database.js';
import type { AuditChainRow, AuditEventRecord, AuditStore, QueuedAuditEvent } from './types.js';

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
/** Sequence numbers per page of the read of a chain: small enough for the sort to stay in memory. */
const PAGE = 5000;

interface Head {
  seq: number;
  hash: string;
}

interface PendingAppend {
  record: AuditEventRecord;
  body: string;
  resolve: (record: AuditEventRecord) => void;
  reject: (error: unknown) => void;
}

/** Bulk statements of the embedded database, beside the parameterised `Sql` queries. */
export interface AuditWriter {
  /** Runs one statement by the simple protocol (no parameters). */
  exec(text: string): Promise<void>;
  /** `COPY ... FROM` with `data` in PostgreSQL's text format. */
  copyFrom(statement: string, data: string): Promise<void>;
}

// Rows written since migration 3 keep the hashed text in body and leave data NULL; older rows have data.
const COLUMNS =
  'id, run_id, seq, at, type, data, CASE WHEN data IS NULL THEN body END AS body, prev_hash, hash';

interface AuditRow {
  id: string;
  run_id: string;
  seq: number;
  at: string;
  type: string;
  data: unknown;
  body: string | null;
  prev_hash: string;
  hash: string;
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
 * A SQL string literal. Safe because the database runs with standard_conforming_strings on (the
 * PostgreSQL default, checked when the store opens), where only the quote itself is special inside
 * '...', and because encodeText has already removed what a text value cannot hold (NUL, lone surrogates).
 */
function literal(text: string): string {
  return `'${encodeText(text).replaceAll("'", "''")}'`;
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
 * Audit table: per-run hash chains. An append is numbered and hashed at once, in memory, in call
 * order (the chain head of a run is read from the table once per store, then kept); the event is
 * queued and written by group commit: whatever is queued while a write runs goes into the next
 * single statement (a literal INSERT, or a COPY for larger batches). An append resolves only once its event is committed, and batches
 * commit in queue order, so once an event is committed every earlier event of its run is too.
 * Heads can stay in memory because the store holds the cross-process lock for its whole life.
 * If a write fails, none of its batch was written: those appends, and every later queued append
 * of the same runs (their hashes link to the lost events), are rejected and the heads re-read.
 */
export function createAuditStore(sql: Sql, writer?: AuditWriter): AuditStore {
  const heads = new Map<string, Head>();
  const loading = new Map<string, Promise<void>>();
  let pending: PendingAppend[] = [];
  let flushing = false;

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
    item: Omit<PendingAppend, 'record' | 'body'>,
  ): AuditEventRecord {
    const previous = heads.get(runId)!;
    const seq = previous.seq + 1;
    const hash = auditBodyHash(previous.hash, { runId, seq, at, type, body });
    heads.set(runId, { seq, hash });
    const record: AuditEventRecord = {
      id: `${runId}:${seq}`,
      runId,
      seq,
      at,
      type,
      data: JSON.parse(body),
      prevHash: previous.hash,
      hash,
    };
    pending.push({ record, body, ...item });
    // The first write waits for the end of this turn of the event loop, so appends made together
    // (a call's request and its decision) share one commit; whatever is queued while a write runs
    // goes into the next one.
    if (!flushing) {
      flushing = true;
      setImmediate(() => void flush());
    }
    return record;
  }

  async function write(batch: readonly PendingAppend[]): Promise<void> {
    if (writer && batch.length >= COPY_FROM) {
      let data = '';
      for (const { record, body } of batch)
        data += `${copyField(record.id)}\t${copyField(record.runId)}\t${record.seq}\t${copyField(record.at)}\t${copyField(record.type)}\t${copyField(body)}\t${record.prevHash}\t${record.hash}\n`;
      await writer.copyFrom(
        "COPY audit_events (id, run_id, seq, at, type, body, prev_hash, hash) FROM '/dev/blob'",
        data,
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
          // Nothing of the batch was written (one statement). Later queued events of these runs
          // link to events that do not exist: reject them as well and read the heads afresh.
          const failed = new Set(batch.map((item) => item.record.runId));
          const later = pending.filter((item) => failed.has(item.record.runId));
          pending = pending.filter((item) => !failed.has(item.record.runId));
          for (const runId of failed) heads.delete(runId);
          for (const item of [...batch, ...later]) item.reject(error);
        }
      }
    } finally {
      flushing = false;
    }
  }

  function enqueue(runId: string, type: string, data: unknown, at: string): Promise<QueuedAuditEvent> {
    return new Promise<QueuedAuditEvent>((numbered, reject) => {
      // Serialised before queueing: a value with no JSON form fails alone and never breaks the chain.
      const body = canonicalJson(data ?? null);
      let item!: Omit<PendingAppend, 'record' | 'body'>;
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

    async append(runId, type, data, at) {
      const { committed } = await enqueue(runId, type, data, at);
      return committed;
    },

    async list(runId) {
      const rows = await sql.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_events WHERE run_id = $1 ORDER BY seq`,
        [runId],
      );
      return rows.map(toRecord);
    },

    async runIds() {
      const rows = await sql.query<{ run_id: string }>(
        'SELECT DISTINCT run_id FROM audit_events ORDER BY run_id',
      );
      return rows.map((row) => row.run_id);
    },

    async chain(runId) {
      const rows: AuditChainRow[] = [];
      // Pages by sequence range, not LIMIT: without fresh statistics (nothing runs ANALYZE in the
      // embedded database) the planner sorted every row after the page start, on disk, for each page.
      for (let after = 0; ; ) {
        const until = after + PAGE;
        const page =
          (await bulkPage(sql, runId, after, until)) ?? (await chainPage(sql, runId, after, until));
        for (const row of page) rows.push(row);
        if (page.length > 0) {
          after = until;
          continue;
        }
        // Nothing in this range: the end, or a gap (deleted events) to step over.
        const [next] = await sql.query<{ seq: number | null }>(
          'SELECT min(seq) AS seq FROM audit_events WHERE run_id = $1 AND seq > $2',
          [runId, after],
        );
        if (next?.seq == null) return rows;
        after = next.seq - 1;
      }
    },
  };
}

const UNIT = '\x1f';
const RECORD = '\x1e';

/**
 * One page of a chain as a single string built by the database (fields split by U+001F, rows by
 * U+001E) with the row count beside it: far cheaper to read than rows or JSON. A stored body is
 * canonical JSON, which writes control characters as escapes, so the separators can only occur in a
 * hand-edited field; then the count of pieces or of fields is off and the page is read exactly (null).
 */
async function bulkPage(
  sql: Sql,
  runId: string,
  after: number,
  until: number,
): Promise<AuditChainRow[] | null> {
  const [result] = await sql.query<{ rows: number; page: string | null }>(
    `SELECT count(*)::int AS rows,
            string_agg(concat_ws(E'\\x1f', id, seq, at, type, prev_hash, hash, body), E'\\x1e') AS page
       FROM (SELECT id, seq, at, type, prev_hash, hash, CASE WHEN data IS NULL THEN 'b' || body END AS body
               FROM audit_events WHERE run_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq) AS page`,
    [runId, after, until],
  );
  if (!result || result.rows === 0 || result.page === null) return [];
  const pieces = result.page.split(RECORD);
  if (pieces.length !== result.rows) return null;
  const rows: AuditChainRow[] = new Array(pieces.length);
  let previousSeq = after;
  for (let index = 0; index < pieces.length; index++) {
    const fields = pieces[index]!.split(UNIT);
    // An older row (data, no body) has one field less: the exact read handles it.
    if (fields.length !== 7) return null;
    const [id, seq, at, type, prevHash, hash, body] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const number = Number(seq);
    // The rows are aggregated in the order the ordered subquery yields them, which PostgreSQL keeps but
    // does not promise; a page out of order is read again exactly.
    if (!(number > previousSeq)) return null;
    previousSeq = number;
    rows[index] = { id, runId, seq: number, at, type, prevHash, hash, body: body.slice(1) };
  }
  return rows;
}

type PageTuple = [string, number, string, string, string, string, string | null, unknown];

/** One page of a chain as JSON built by the database: one value to parse instead of thousands of rows. */
async function chainPage(sql: Sql, runId: string, after: number, until: number): Promise<AuditChainRow[]> {
  const [result] = await sql.query<{ page: string | null }>(
    `SELECT json_agg(json_build_array(id, seq, at, type, prev_hash, hash, body, data) ORDER BY seq)::text AS page
       FROM (SELECT id, seq, at, type, prev_hash, hash, CASE WHEN data IS NULL THEN body END AS body, data
               FROM audit_events WHERE run_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq) AS page`,
    [runId, after, until],
  );
  if (!result?.page) return [];
  let tuples: PageTuple[];
  try {
    tuples = JSON.parse(result.page) as PageTuple[];
  } catch {
    // Only a hand-edited row can carry what JSON cannot (a NUL in a text column): read that page row by row.
    const rows = await sql.query<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_events WHERE run_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`,
      [runId, after, until],
    );
    return rows.map((row) => ({
      id: row.id,
      runId,
      seq: row.seq,
      at: row.at,
      type: row.type,
      prevHash: row.prev_hash,
      hash: row.hash,
      ...(row.body !== null ? { body: row.body } : { data: row.data }),
    }));
  }
  return tuples.map(([id, seq, at, type, prevHash, hash, body, data]) => ({
    id,
    runId,
    seq,
    at,
    type,
    prevHash,
    hash,
    ...(body !== null ? { body } : { data }),
  }));
}
