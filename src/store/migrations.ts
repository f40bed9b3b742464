import type { PGlite } from '@electric-sql/pglite';
import { StateError } from '../errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append-only: never edit a released migration, add the next version instead. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, approvals, audit events',
    sql: `
      CREATE TABLE runs (
        id text PRIMARY KEY,
        row_seq bigint GENERATED ALWAYS AS IDENTITY,
        alert_id text NOT NULL,
        alert_title text NOT NULL,
        provider text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'awaiting_approval', 'completed', 'failed', 'escalated', 'killed')),
        state jsonb,
        verdict jsonb,
        error text,
        waiter text,
        waiter_heartbeat_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX runs_created_idx ON runs (created_at DESC, row_seq DESC);
      CREATE INDEX runs_status_created_idx ON runs (status, created_at DESC, row_seq DESC);

      CREATE TABLE approvals (
        id text PRIMARY KEY,
        row_seq bigint GENERATED ALWAYS AS IDENTITY,
        run_id text NOT NULL,
        tool text NOT NULL,
        args jsonb NOT NULL,
        args_hash text NOT NULL,
        tier text NOT NULL,
        reason text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        requested_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        decided_by text,
        decision_note text,
        consumed_at timestamptz,
        CHECK (consumed_at IS NULL OR status = 'approved')
      );
      CREATE INDEX approvals_requested_idx ON approvals (requested_at DESC, row_seq DESC);
      CREATE INDEX approvals_status_requested_idx ON approvals (status, requested_at DESC, row_seq DESC);
      CREATE INDEX approvals_run_requested_idx ON approvals (run_id, requested_at DESC, row_seq DESC);

      CREATE TABLE audit_events (
        id text PRIMARY KEY,
        run_id text NOT NULL,
        seq integer NOT NULL CHECK (seq >= 1),
        -- text, not timestamptz: it is hashed, so it must come back byte for byte
        at text NOT NULL,
        type text NOT NULL,
        data jsonb,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        UNIQUE (run_id, seq)
      );
    `,
  },
  {
    version: 2,
    name: 'approvals by more than one person',
    sql: `
      ALTER TABLE approvals ADD COLUMN required_approvers integer NOT NULL DEFAULT 1 CHECK (required_approvers >= 1);
      ALTER TABLE approvals ADD COLUMN approvers jsonb NOT NULL DEFAULT '[]'::jsonb;
    `,
  },
  {
    version: 3,
    name: 'audit events stored as their hashed canonical JSON',
    // New events keep the exact hashed bytes in body and leave data NULL; earlier ones keep data.
    sql: `ALTER TABLE audit_events ADD COLUMN body text;`,
  },
  {
    version: 4,
    name: 'approvals bound to a policy version; autonomy ladder',
    sql: `
      ALTER TABLE approvals ADD COLUMN policy_version text;

      CREATE TABLE autonomy_levels (
        action_class text PRIMARY KEY,
        level text NOT NULL CHECK (level IN ('suggest', 'approve', 'notify', 'auto')),
        changed_by text NOT NULL,
        reason text NOT NULL,
        changed_at timestamptz NOT NULL
      );

      CREATE TABLE autonomy_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        action_class text NOT NULL,
        from_level text NOT NULL,
        to_level text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('promote', 'demote', 'auto-demote')),
        changed_by text NOT NULL,
        reason text NOT NULL,
        evidence jsonb NOT NULL,
        changed_at timestamptz NOT NULL
      );
      CREATE INDEX autonomy_changes_class_idx ON autonomy_changes (action_class, changed_at DESC, id DESC);
    `,
  },
  {
    version: 5,
    name: 'analyst feedback on verdicts, approvals and actions',
    sql: `
      CREATE TABLE feedback (
        id text PRIMARY KEY,
        row_seq bigint GENERATED ALWAYS AS IDENTITY,
        run_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('verdict', 'approval', 'action')),
        action_class text,
        approval_id text,
        verdict text CHECK (verdict IS NULL OR verdict IN ('malicious', 'suspicious', 'benign')),
        agree boolean NOT NULL,
        executed boolean NOT NULL DEFAULT false,
        critical boolean NOT NULL DEFAULT false,
        note text,
        by text NOT NULL,
        at timestamptz NOT NULL,
        CHECK ((kind = 'verdict') = (verdict IS NOT NULL)),
        CHECK (kind = 'verdict' OR action_class IS NOT NULL)
      );
      CREATE INDEX feedback_run_idx ON feedback (run_id, row_seq);
      CREATE INDEX feedback_class_idx ON feedback (action_class, row_seq);
    `,
  },
  {
    version: 6,
    name: 'audit events without the primary key on id',
    // An event's id is `<run_id>:<seq>`, so UNIQUE (run_id, seq) already keys the table; the second
    // index only cost every append an insert into it. Verification checks each id against its run and
    // sequence number, so a duplicated or changed id is still reported as an edited event.
    sql: 'ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_pkey;',
  },
];

/** Applies pending migrations in one transaction; refuses a database written by a newer Warden. */
export async function migrate(db: PGlite, available: readonly Migration[] = migrations): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await tx.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_migrations',
    );
    const current = rows[0]?.version ?? 0;
    const latest = available.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new StateError(
        `store schema is version ${current} but this Warden knows up to ${latest}; upgrade Warden or use another home`,
      );
    }
    for (const migration of available) {
      if (migration.version <= current) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    return latest;
  });
}
