import { randomBytes } from 'node:crypto';
import { StateError } from '../errors.js';
import { type ApprovalRecord, type ApprovalStore, canonicalJson, sha256Hex } from '../store/index.js';

export function hashArgs(args: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(args));
}

export function newApprovalId(): string {
  return `apr-${randomBytes(5).toString('hex')}`;
}

/** Persists a pending action bound to (run, tool, canonical argument hash, policy version). */
export async function requestApproval(
  approvals: ApprovalStore,
  request: {
    runId: string;
    tool: string;
    args: Record<string, unknown>;
    tier: string;
    reason: string;
    ttlMinutes: number;
    now: Date;
    /** Distinct people who must approve; 1 unless the target is critical. */
    requiredApprovers?: number;
    /** Content hash of the Cedar policy set that asked for the approval. */
    policyVersion: string | null;
  },
): Promise<ApprovalRecord> {
  return approvals.create({
    id: newApprovalId(),
    runId: request.runId,
    tool: request.tool,
    args: request.args,
    argsHash: hashArgs(request.args),
    tier: request.tier,
    reason: request.reason,
    requestedAt: request.now.toISOString(),
    expiresAt: new Date(request.now.getTime() + request.ttlMinutes * 60_000).toISOString(),
    requiredApprovers: request.requiredApprovers ?? 1,
    policyVersion: request.policyVersion,
  });
}

export function isExpired(approval: ApprovalRecord, now: Date): boolean {
  return approval.status === 'pending' && Date.parse(approval.expiresAt) <= now.getTime();
}

/** Records a human decision. Only a pending, unexpired approval can be decided; expiry is recorded as such. */
export async function decideApproval(
  approvals: ApprovalStore,
  decision: { approvalId: string; status: 'approved' | 'denied'; by: string; note: string | null; now: Date },
): Promise<ApprovalRecord> {
  const approval = await approvals.get(decision.approvalId);
  if (!approval)
    throw new StateError(`approval ${decision.approvalId} does not exist; see \`warden approvals list\``);
  if (isExpired(approval, decision.now)) {
    await approvals.decide(approval.id, {
      status: 'expired',
      by: 'warden',
      note: 'expired before a decision',
      at: decision.now.toISOString(),
    });
    throw new StateError(`approval ${approval.id} expired at ${approval.expiresAt}; it counts as denied`);
  }
  if (approval.status !== 'pending') {
    throw new StateError(
      `approval ${approval.id} is already ${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`,
    );
  }
  if (decision.status === 'approved') {
    if (approval.approvers.some((earlier) => earlier.by === decision.by)) {
      throw new StateError(
        `${decision.by} has already approved ${approval.id}; it needs ${approval.requiredApprovers} distinct approvers`,
      );
    }
    const approved = await approvals.approve(approval.id, {
      by: decision.by,
      note: decision.note,
      at: decision.now.toISOString(),
    });
    if (!approved) throw new StateError(`approval ${approval.id} was decided by someone else just now`);
    return approved;
  }
  const decided = await approvals.decide(approval.id, {
    status: decision.status,
    by: decision.by,
    note: decision.note,
    at: decision.now.toISOString(),
  });
  if (!decided) throw new StateError(`approval ${approval.id} was decided by someone else just now`);
  return decided;
}

export type ReceiptCheck = { type: 'valid'; approval: ApprovalRecord } | { type: 'invalid'; reason: string };

function shortVersion(version: string | null): string {
  return version ? version.slice(0, 12) : 'none';
}

/**
 * Checks, without using it, that an approval is a receipt for exactly this (run, tool, arguments)
 * under the current policy version, approved and not yet used.
 */
export async function checkReceipt(
  approvals: ApprovalStore,
  request: {
    approvalId: string;
    runId: string;
    tool: string;
    args: Record<string, unknown>;
    policyVersion: string | null;
  },
): Promise<ReceiptCheck> {
  const approval = await approvals.get(request.approvalId);
  if (!approval) return { type: 'invalid', reason: `receipt ${request.approvalId} does not exist` };
  if (approval.runId !== request.runId || approval.tool !== request.tool) {
    return {
      type: 'invalid',
      reason: `receipt ${approval.id} was issued for ${approval.tool} in run ${approval.runId}`,
    };
  }
  if (approval.argsHash !== hashArgs(request.args)) {
    return {
      type: 'invalid',
      reason: `receipt ${approval.id} was issued for other arguments; changed arguments need a new approval`,
    };
  }
  if (approval.policyVersion !== request.policyVersion) {
    return {
      type: 'invalid',
      reason: `receipt ${approval.id} was approved under policy version ${shortVersion(approval.policyVersion)}, but the policy is now ${shortVersion(request.policyVersion)}; a new approval is needed`,
    };
  }
  if (approval.status !== 'approved')
    return { type: 'invalid', reason: `receipt ${approval.id} is ${approval.status}, not approved` };
  if (approval.consumedAt)
    return { type: 'invalid', reason: `receipt ${approval.id} was already used at ${approval.consumedAt}` };
  return { type: 'valid', approval };
}

/**
 * Uses a checked receipt once. Consumption is atomic, so two processes racing on one receipt
 * execute the call once.
 */
export async function consumeReceipt(
  approvals: ApprovalStore,
  approval: ApprovalRecord,
  now: Date,
): Promise<ReceiptCheck> {
  const consumed = await approvals.consume(approval.id, now.toISOString());
  if (!consumed) return { type: 'invalid', reason: `receipt ${approval.id} was used by another process` };
  return { type: 'valid', approval };
}
