import type { Sql } from './database.js';
import type { AutonomyChangeRecord, AutonomyLevelRecord, AutonomyStore } from './types.js';

interface LevelRow {
  action_class: string;
  level: AutonomyLevelRecord['level'];
  changed_by: string;
  reason: string;
  changed_at: Date;
}

interface ChangeRow {
  id: string | number;
  action_class: string;
  from_level: AutonomyLevelRecord['level'];
  to_level: AutonomyLevelRecord['level'];
  kind: AutonomyChangeRecord['kind'];
  changed_by: string;
  reason: string;
  evidence: unknown;
  changed_at: Date;
}

/** Autonomy levels per action class and the history of every promotion and demotion. */
export function createAutonomyStore(sql: Sql): AutonomyStore {
  return {
    async levels() {
      const rows = await sql.query<LevelRow>(
        'SELECT action_class, level, changed_by, reason, changed_at FROM autonomy_levels ORDER BY action_class',
      );
      return rows.map((row) => ({
        actionClass: row.action_class,
        level: row.level,
        changedBy: row.changed_by,
        reason: row.reason,
        changedAt: row.changed_at.toISOString(),
      }));
    },

    async change(change) {
      // One statement: the level moves only from the level the caller saw, and the history row comes with it.
      const rows = await sql.query<{ id: string }>(
        `WITH moved AS (
           INSERT INTO autonomy_levels (action_class, level, changed_by, reason, changed_at)
           VALUES ($1, $3, $5, $6, $8)
           ON CONFLICT (action_class) DO UPDATE
             SET level = EXCLUDED.level, changed_by = EXCLUDED.changed_by, reason = EXCLUDED.reason, changed_at = EXCLUDED.changed_at
             WHERE autonomy_levels.level = $2
           RETURNING action_class
         )
         INSERT INTO autonomy_changes (action_class, from_level, to_level, kind, changed_by, reason, evidence, changed_at)
         SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8 FROM moved
         RETURNING id`,
        [
          change.actionClass,
          change.from,
          change.to,
          change.kind,
          change.by,
          change.reason,
          change.evidence,
          change.at,
        ],
      );
      return rows.length === 1;
    },

    async history(query) {
      const rows = await sql.query<ChangeRow>(
        `SELECT id, action_class, from_level, to_level, kind, changed_by, reason, evidence, changed_at
         FROM autonomy_changes WHERE ($1::text IS NULL OR action_class = $1)
         ORDER BY changed_at DESC, id DESC LIMIT $2`,
        [query.actionClass ?? null, query.limit],
      );
      return rows.map((row) => ({
        actionClass: row.action_class,
        from: row.from_level,
        to: row.to_level,
        kind: row.kind,
        by: row.changed_by,
        reason: row.reason,
        evidence: row.evidence,
        at: row.changed_at.toISOString(),
      }));
    },

    async humanDecisions(actionClass, window) {
      const rows = await sql.query<{ approved: number; denied: number }>(
        `SELECT count(*) FILTER (WHERE status = 'approved')::int AS approved,
                count(*) FILTER (WHERE status = 'denied')::int AS denied
         FROM (SELECT status FROM approvals
               WHERE tool = $1 AND status IN ('approved', 'denied') AND decided_by IS DISTINCT FROM 'warden'
               ORDER BY decided_at DESC, row_seq DESC LIMIT $2) recent`,
        [actionClass, window],
      );
      return { approved: rows[0]?.approved ?? 0, denied: rows[0]?.denied ?? 0 };
    },
    async actionReviews(actionClass, window) {
      const rows = await sql.query<{ agreed: number; disagreed: number; reversals: number }>(
        // An approval's own decision is already counted by humanDecisions: only reviews of
        // actions taken without one add decisions; a critical reversal counts from either kind.
        `SELECT count(*) FILTER (WHERE agree AND kind = 'action')::int AS agreed,
                count(*) FILTER (WHERE NOT agree AND kind = 'action')::int AS disagreed,
                count(*) FILTER (WHERE NOT agree AND critical AND executed)::int AS reversals
         FROM (SELECT kind, agree, critical, executed FROM feedback
               WHERE action_class = $1 AND kind IN ('action', 'approval')
               ORDER BY row_seq DESC LIMIT $2) recent`,
        [actionClass, window],
      );
      return {
        agreed: rows[0]?.agreed ?? 0,
        disagreed: rows[0]?.disagreed ?? 0,
        criticalReversals: rows[0]?.reversals ?? 0,
      };
    },
  };
}
