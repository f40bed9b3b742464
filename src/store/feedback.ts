import { randomBytes } from 'node:crypto';
import type { Sql } from './database.js';
import type { FeedbackRecord, FeedbackStore } from './types.js';

interface FeedbackRow {
  id: string;
  run_id: string;
  kind: FeedbackRecord['kind'];
  action_class: string | null;
  approval_id: string | null;
  verdict: FeedbackRecord['verdict'];
  agree: boolean;
  executed: boolean;
  critical: boolean;
  note: string | null;
  by: string;
  at: Date;
}

const COLUMNS =
  'id, run_id, kind, action_class, approval_id, verdict, agree, executed, critical, note, by, at';

function toRecord(row: FeedbackRow): FeedbackRecord {
  return {
    id: row.id,
    runId: row.run_id,
    kind: row.kind,
    actionClass: row.action_class,
    approvalId: row.approval_id,
    verdict: row.verdict,
    agree: row.agree,
    executed: row.executed,
    critical: row.critical,
    note: row.note,
    by: row.by,
    at: row.at.toISOString(),
  };
}

/** Feedback table: an analyst's label for a run's verdict, an approval decision or an action, append-only. */
export function createFeedbackStore(sql: Sql): FeedbackStore {
  return {
    async record(entry) {
      const rows = await sql.query<FeedbackRow>(
        `INSERT INTO feedback (id, run_id, kind, action_class, approval_id, verdict, agree, executed, critical, note, by, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
        [
          `fb-${randomBytes(6).toString('hex')}`,
          entry.runId,
          entry.kind,
          entry.actionClass,
          entry.approvalId,
          entry.verdict,
          entry.agree,
          entry.executed,
          entry.critical,
          entry.note,
          entry.by,
          entry.at,
        ],
      );
      return toRecord(rows[0]!);
    },
    async list(query) {
      const rows = await sql.query<FeedbackRow>(
        `SELECT ${COLUMNS} FROM feedback WHERE ($1::text IS NULL OR run_id = $1) ORDER BY row_seq LIMIT $2`,
        [query.runId ?? null, query.limit],
      );
      return rows.map(toRecord);
    },
  };
}
