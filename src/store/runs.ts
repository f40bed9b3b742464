import { StateError } from '../errors.js';
import { type Sql, sqlState, UNIQUE_VIOLATION } from './database.js';
import type { RunRecord, RunStatus, RunStore } from './types.js';

interface RunRow {
  id: string;
  alert_id: string;
  alert_title: string;
  provider: string;
  status: RunStatus;
  state: unknown;
  verdict: unknown;
  error: string | null;
  waiter: string | null;
  waiter_heartbeat_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, alert_id, alert_title, provider, status, state, verdict, error, waiter, waiter_heartbeat_at, created_at, updated_at';

const PATCH_COLUMNS = {
  status: 'status',
  state: 'state',
  verdict: 'verdict',
  error: 'error',
  waiter: 'waiter',
  waiterHeartbeatAt: 'waiter_heartbeat_at',
} as const;

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    alertId: row.alert_id,
    alertTitle: row.alert_title,
    provider: row.provider,
    status: row.status,
    state: row.state,
    verdict: row.verdict,
    error: row.error,
    waiter: row.waiter,
    waiterHeartbeatAt: row.waiter_heartbeat_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Runs table: one row per investigation, with its resumable loop state. */
export function createRunStore(sql: Sql): RunStore {
  return {
    async create(run) {
      try {
        const rows = await sql.query<RunRow>(
          `INSERT INTO runs (id, alert_id, alert_title, provider, status, state, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'running', $5, $6, $6) RETURNING ${COLUMNS}`,
          [run.id, run.alertId, run.alertTitle, run.provider, run.state, run.at],
        );
        return toRecord(rows[0]!);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION)
          throw new StateError(`run ${run.id} already exists`, { cause: error });
        throw error;
      }
    },

    async get(id) {
      const rows = await sql.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async list({ status, limit }) {
      const rows = await sql.query<RunRow>(
        `SELECT ${COLUMNS} FROM runs WHERE ($1::text IS NULL OR status = $1)
         ORDER BY created_at DESC, row_seq DESC LIMIT $2`,
        [status ?? null, limit],
      );
      return rows.map(toRecord);
    },

    async update(id, patch, at) {
      const assignments = ['updated_at = $2'];
      const params: unknown[] = [id, at];
      for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
        const value = patch[key as keyof typeof PATCH_COLUMNS];
        if (value === undefined) continue;
        params.push(value);
        assignments.push(`${column} = $${params.length}`);
      }
      const rows = await sql.query(
        `UPDATE runs SET ${assignments.join(', ')} WHERE id = $1 RETURNING id`,
        params,
      );
      if (rows.length === 0) throw new StateError(`run ${id} does not exist`);
    },

    async claim(id, from, at) {
      const rows = await sql.query(
        `UPDATE runs SET status = 'running', updated_at = $3 WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`,
        [id, from, at],
      );
      return rows.length === 1;
    },
  };
}
