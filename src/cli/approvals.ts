import { userInfo } from 'node:os';
import { hasLiveWaiter, openHomeStore, recordDecision, resumeRun } from '../agent/index.js';
import type { ApprovalStatus } from '../store/index.js';
import { type CliContext, cliRuntime } from './context.js';
import { renderApproval, renderOutcome } from './render.js';

export function defaultApprover(): string {
  return process.env.WARDEN_APPROVER ?? userInfo().username;
}

export async function listApprovals(
  context: CliContext,
  options: { all: boolean; run?: string },
): Promise<void> {
  const store = await openHomeStore(context.home);
  try {
    const status: ApprovalStatus | undefined = options.all ? undefined : 'pending';
    const approvals = await store.approvals.list({
      ...(status ? { status } : {}),
      ...(options.run ? { runId: options.run } : {}),
      limit: 200,
    });
    if (approvals.length === 0) context.out(options.all ? 'no approvals' : 'no pending approvals');
    for (const approval of approvals) context.out(renderApproval(approval));
  } finally {
    await store.close();
  }
}

/**
 * Records a human decision and lets the paused run continue: in the process that is waiting
 * for it, if one is, otherwise here.
 */
export async function decide(
  context: CliContext,
  approvalId: string,
  options: { status: 'approved' | 'denied'; by: string; note: string | null; resume: boolean },
): Promise<void> {
  const store = await openHomeStore(context.home);
  try {
    const approval = await recordDecision(
      store,
      context.home,
      {
        approvalId,
        status: options.status,
        by: options.by,
        note: options.note,
        now: new Date(),
      },
      { settings: context.config.autonomy },
    );
    if (approval.status === 'pending') {
      const missing = approval.requiredApprovers - approval.approvers.length;
      context.out(
        `${approval.id} approved by ${options.by} (${approval.approvers.length} of ${approval.requiredApprovers}): ${approval.tool} ${JSON.stringify(approval.args)} waits for ${missing} more distinct approver(s)`,
      );
      return;
    }
    context.out(
      `${approval.id} ${approval.status} by ${options.by}: ${approval.tool} ${JSON.stringify(approval.args)} (run ${approval.runId})`,
    );
    if (!options.resume) {
      context.out(`run ${approval.runId} stays paused until resumed: warden runs resume ${approval.runId}`);
      return;
    }
    if (await hasLiveWaiter(context.home, approval.runId)) {
      context.out(`run ${approval.runId} resumes in the process that is waiting for it`);
      return;
    }
    const runtime = await cliRuntime(context);
    try {
      context.out(renderOutcome(await resumeRun(runtime.loopDeps(store), approval.runId)));
    } finally {
      await runtime.close();
    }
  } finally {
    await store.close();
  }
}
