import {
  type AutonomySettings,
  checkDemotions,
  decideApproval,
  type EvidenceSource,
} from '../control/index.js';
import type { ApprovalRecord, Store } from '../store/index.js';
import { touchSignal } from './waiting.js';

/** A human's decision on a pending action: recorded on the approval and in the run's audit trail, then signalled. */
export async function recordDecision(
  store: Store,
  home: string,
  decision: { approvalId: string; status: 'approved' | 'denied'; by: string; note: string | null; now: Date },
  /** When given, a class running without a human whose agreement fell with this decision is demoted. */
  autonomy?: { settings: AutonomySettings; evidence?: EvidenceSource },
): Promise<ApprovalRecord> {
  const approval = await decideApproval(store.approvals, decision);
  await store.audit.append(
    approval.runId,
    'tool-approval-response',
    {
      approvalId: approval.id,
      tool: approval.tool,
      args: approval.args,
      argsHash: approval.argsHash,
      status: approval.status,
      by: decision.by,
      note: decision.note,
      approvers: approval.approvers.length,
      requiredApprovers: approval.requiredApprovers,
    },
    decision.now.toISOString(),
  );
  if (autonomy && approval.status !== 'pending')
    await checkDemotions(store.autonomy, autonomy.settings, decision.now, autonomy.evidence, [approval.tool]);
  await touchSignal(home, approval.runId);
  return approval;
}
