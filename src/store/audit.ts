import { canonicalJson, sha256Hex } from './canonical.js';
import type { Sql } from './database.js';
import type { AuditEventRecord, AuditStore } from './types.js';

/** `prevHash` of the first event of every run. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** The chain link: SHA-256 of the previous hash and the canonical JSON of the event's content. */
export function auditEventHash(
  prevHash: string,
  event: Pick<AuditEventRecord, 'runId' | 'seq' | 'at' | 'type' | 'data'>,
): string {
  const { runId, seq, at, type, data } = event;
  return sha256Hex(prevHash + canonicalJson({ runId, seq, at, type, data }));
}

interface AuditRow {
  id: string;
  run_id: string;
  seq: number;
  at: string;
  type: string;
  data: unknown;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'id, run_id, seq, at, type, data, prev_hash, hash';

function toRecord(row: AuditRow): AuditEventRecord {
  return {
    id: row.id,
    runId: row.run_id,
    seq: row.seq,
    at: row.at,
    type: row.type,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Audit table: per-run hash chains; appends are serialised so sequence numbers never fork. */
export function createAuditStore(sql: Sql): AuditStore {
  const heads = new Map<string, { seq: number; hash: string }>();
  let queue: Promise<unknown> = Promise.resolve();

  async function head(runId: string): Promise<{ seq: number; hash: string }> {
    const cached = heads.get(runId);
    if (cached) return cached;
    const rows = await sql.query<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1',
      [runId],
    );
    return rows[0] ?? { seq: 0, hash: AUDIT_GENESIS_HASH };
  }

  async function appendNow(
    runId: string,
    type: string,
    data: unknown,
    at: string,
  ): Promise<AuditEventRecord> {
    // Hash and store the JSON form, so what is returned, stored and later verified is the same value.
    const normalized: unknown = JSON.parse(canonicalJson(data ?? null));
    const previous = await head(runId);
    const seq = previous.seq + 1;
    const event = { id: `${runId}:${seq}`, runId, seq, at, type, data: normalized, prevHash: previous.hash };
    const record = { ...event, hash: auditEventHash(previous.hash, event) };
    await sql.query(`INSERT INTO audit_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      record.id,
      runId,
      seq,
      at,
      type,
      normalized,
      record.prevHash,
      record.hash,
    ]);
    heads.set(runId, { seq, hash: record.hash });
    return record;
  }

  return {
    append(runId, type, data, at) {
      const result = queue.then(() => appendNow(runId, type, data, at));
      queue = result.catch(() => undefined);
      return result;
    },

    async list(runId) {
      const rows = await sql.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_events WHERE run_id = $1 ORDER BY seq`,
        [runId],
      );
      return rows.map(toRecord);
    },
  };
}
