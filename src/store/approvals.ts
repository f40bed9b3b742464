import { InputError, StateError } from '../errors.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { type Sql, sqlState, UNIQUE_VIOLATION } from './database.js';
import type { ApprovalRecord, ApprovalStatus, ApprovalStore } from './types.js';

interface ApprovalRow {
  id: string;
  run_id: string;
  tool: string;
  args: Record<string, unknown>;
  args_hash: string;
  tier: string;
  reason: string;
  status: ApprovalStatus;
  requested_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  decision_note: string | null;
  consumed_at: Date | null;
  required_approvers: number;
  approvers: Array<{ by: string; at: string; note: string | null }>;
  policy_version: string | null;
}

const COLUMNS =
  'id, run_id, tool, args, args_hash, tier, reason, status, requested_at, expires_at, decided_at, decided_by, decision_note, consumed_at, required_approvers, approvers, policy_version';

function toRecord(row: ApprovalRow): ApprovalRecord {
  return {
    id: row.id,
    runId: row.run_id,
    tool: row.tool,
    args: row.args,
    argsHash: row.args_hash,
    tier: row.tier,
    reason: row.reason,
    status: row.status,
    requestedAt: row.requested_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    decidedAt: row.decided_at?.toISOString() ?? null,
    decidedBy: row.decided_by,
    decisionNote: row.decision_note,
    consumedAt: row.consumed_at?.toISOString() ?? null,
    requiredApprovers: row.required_approvers,
    approvers: row.approvers,
    policyVersion: row.policy_version,
  };
}

/** Approvals table: pending actions bound to exact arguments, decided once and redeemed once. */
export function createApprovalStore(sql: Sql): ApprovalStore {
  return {
    async create(approval) {
      // What a human is shown (args) and what execution is checked against (argsHash) must not diverge.
      if (approval.argsHash !== sha256Hex(canonicalJson(approval.args))) {
        throw new InputError(
          `approval ${approval.id}: argsHash is not the SHA-256 of the canonical JSON of args`,
        );
      }
      try {
        const rows = await sql.query<ApprovalRow>(
          `INSERT INTO approvals (id, run_id, tool, args, args_hash, tier, reason, status, requested_at, expires_at, required_approvers, policy_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11) RETURNING ${COLUMNS}`,
          [
            approval.id,
            approval.runId,
            approval.tool,
            approval.args,
            approval.argsHash,
            approval.tier,
            approval.reason,
            approval.requestedAt,
            approval.expiresAt,
            approval.requiredApprovers ?? 1,
            approval.policyVersion ?? null,
          ],
        );
        return toRecord(rows[0]!);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new StateError(`approval ${approval.id} already exists`, { cause: error });
        }
        throw error;
      }
    },

    async get(id) {
      const rows = await sql.query<ApprovalRow>(`SELECT ${COLUMNS} FROM approvals WHERE id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async list({ status, runId, limit }) {
      const rows = await sql.query<ApprovalRow>(
        `SELECT ${COLUMNS} FROM approvals
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR run_id = $2)
         ORDER BY requested_at DESC, row_seq DESC LIMIT $3`,
        [status ?? null, runId ?? null, limit],
      );
      return rows.map(toRecord);
    },

    async decide(id, decision) {
      const rows = await sql.query<ApprovalRow>(
        `UPDATE approvals SET status = $2, decided_by = $3, decision_note = $4, decided_at = $5
         WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
        [id, decision.status, decision.by, decision.note, decision.at],
      );
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async approve(id, approval) {
      // One statement: a second person racing the first either completes the quorum or loses cleanly.
      const entry = [{ by: approval.by, at: approval.at, note: approval.note }];
      const rows = await sql.query<ApprovalRow>(
        `UPDATE approvals SET
           approvers = approvers || $2::jsonb,
           status = CASE WHEN jsonb_array_length(approvers) + 1 >= required_approvers THEN 'approved' ELSE 'pending' END,
           decided_by = CASE WHEN jsonb_array_length(approvers) + 1 >= required_approvers THEN $3 ELSE decided_by END,
           decision_note = CASE WHEN jsonb_array_length(approvers) + 1 >= required_approvers THEN $4 ELSE decision_note END,
           decided_at = CASE WHEN jsonb_array_length(approvers) + 1 >= required_approvers THEN $5::timestamptz ELSE decided_at END
         WHERE id = $1 AND status = 'pending' AND NOT approvers @> $6::jsonb
         RETURNING ${COLUMNS}`,
        [id, entry, approval.by, approval.note, approval.at, [{ by: approval.by }]],
      );
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async consume(id, at) {
      const rows = await sql.query(
        `UPDATE approvals SET consumed_at = $2 WHERE id = $1 AND status = 'approved' AND consumed_at IS NULL RETURNING id`,
        [id, at],
      );
      return rows.length === 1;
    },
  };
}
