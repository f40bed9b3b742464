import { canonicalJson, sha256Hex } from './canonical.js';
import type { Sql } from './database.js';
import type { AuditChainRow, AuditEventRecord, AuditStore } from './types.js';

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
    `${prevHash}{"at":${JSON.stringify(at)},"data":${body},"runId":${JSON.stringify(runId)},"seq":${canonicalJson(seq)},"type":${JSON.stringify(type)}}`,
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

/** Events of one multi-row INSERT: 9 parameters each, well under PostgreSQL's 65535. */
const MAX_BATCH = 500;
/** Rows per page when reading a chain for verification. */
const PAGE = 5000;

interface Head {
  seq: number;
  hash: string;
}

interface PendingAppend {
  runId: string;
  type: string;
  at: string;
  body: string;
  resolve: (record: AuditEventRecord) => void;
  reject: (error: unknown) => void;
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
 * Audit table: per-run hash chains. Appends queue up and are written by group commit: whatever
 * is queued while one INSERT runs goes into the next one (up to MAX_BATCH), so concurrent runs
 * share round trips while each append still resolves only once its event is committed. Chain
 * heads are kept in memory: the store holds the cross-process lock for its whole life, so no
 * other process can append meanwhile; a new store (any process) reads heads from the table.
 */
export function createAuditStore(sql: Sql): AuditStore {
  const heads = new Map<string, Head>();
  let pending: PendingAppend[] = [];
  let flushing = false;

  async function headOf(runId: string): Promise<Head> {
    const cached = heads.get(runId);
    if (cached) return cached;
    const rows = await sql.query<Head>(
      'SELECT seq, hash FROM audit_events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1',
      [runId],
    );
    return rows[0] ?? { seq: 0, hash: AUDIT_GENESIS_HASH };
  }

  async function commit(batch: readonly PendingAppend[]): Promise<AuditEventRecord[]> {
    const next = new Map<string, Head>();
    for (const item of batch) if (!next.has(item.runId)) next.set(item.runId, await headOf(item.runId));
    const records: AuditEventRecord[] = [];
    const params: unknown[] = [];
    const values: string[] = [];
    for (const { runId, type, at, body } of batch) {
      const previous = next.get(runId)!;
      const seq = previous.seq + 1;
      const hash = auditBodyHash(previous.hash, { runId, seq, at, type, body });
      next.set(runId, { seq, hash });
      const id = `${runId}:${seq}`;
      records.push({ id, runId, seq, at, type, data: JSON.parse(body), prevHash: previous.hash, hash });
      const base = params.length;
      values.push(
        `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}, $${base + 8})`,
      );
      params.push(id, runId, seq, at, type, body, previous.hash, hash);
    }
    await sql.query(
      `INSERT INTO audit_events (id, run_id, seq, at, type, body, prev_hash, hash) VALUES ${values.join(', ')}`,
      params,
    );
    for (const [runId, head] of next) heads.set(runId, head);
    return records;
  }

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (pending.length > 0) {
        const batch = pending.slice(0, MAX_BATCH);
        pending = pending.slice(MAX_BATCH);
        try {
          const records = await commit(batch);
          for (const [index, item] of batch.entries()) item.resolve(records[index]!);
        } catch (error) {
          // Nothing of the batch was written (one statement); read the heads afresh next time.
          for (const item of batch) heads.delete(item.runId);
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return {
    append(runId, type, data, at) {
      return new Promise<AuditEventRecord>((resolve, reject) => {
        // Serialised before queueing: a value with no JSON form fails alone and never breaks the chain.
        const body = canonicalJson(data ?? null);
        pending.push({ runId, type, at, body, resolve, reject });
        if (!flushing) void flush();
      });
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
      for (let after = 0; ; ) {
        const page = await chainPage(sql, runId, after);
        rows.push(...page);
        const last = page.at(-1);
        if (page.length < PAGE || !last) return rows;
        after = last.seq;
      }
    },
  };
}

type PageTuple = [string, number, string, string, string, string, string | null, unknown];

/** One page of a chain as JSON built by the database: one value to parse instead of thousands of rows. */
async function chainPage(sql: Sql, runId: string, after: number): Promise<AuditChainRow[]> {
  const [result] = await sql.query<{ page: string | null }>(
    `SELECT json_agg(json_build_array(id, seq, at, type, prev_hash, hash, body, data) ORDER BY seq)::text AS page
       FROM (SELECT id, seq, at, type, prev_hash, hash, CASE WHEN data IS NULL THEN body END AS body, data
               FROM audit_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}) AS page`,
    [runId, after],
  );
  if (!result?.page) return [];
  let tuples: PageTuple[];
  try {
    tuples = JSON.parse(result.page) as PageTuple[];
  } catch {
    // Only a hand-edited row can carry what JSON cannot (a NUL in a text column): read that page row by row.
    const rows = await sql.query<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`,
      [runId, after],
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
