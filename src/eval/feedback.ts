import { InputError, StateError } from '../errors.js';
import type { FeedbackRecord, Store } from '../store/index.js';

export type AnalystVerdict = 'malicious' | 'suspicious' | 'benign';

interface Who {
  by: string;
  note: string | null;
  at: string;
}

interface RunView {
  verdict?: { verdict?: string } | null;
}

interface RunStateView {
  actions?: Array<{ tool: string; status: string; approvalId: string | null }>;
}

async function requireRun(store: Store, runId: string) {
  const run = await store.runs.get(runId);
  if (!run) throw new StateError(`run ${runId} does not exist; see \`warden runs list\``);
  return run;
}

/** The tier each tool had in the run, as recorded at its start (Warden's registry, not the server's word). */
async function toolTiers(store: Store, runId: string): Promise<Map<string, string>> {
  const events = await store.audit.list(runId);
  const start = events.find((event) => event.type === 'run-start');
  const tools = (start?.data as { tools?: Array<{ name: string; tier: string }> } | undefined)?.tools ?? [];
  return new Map(tools.map((tool) => [tool.name, tool.tier]));
}

const writes = new Set(['reversible', 'destructive']);

async function save(store: Store, entry: Omit<FeedbackRecord, 'id'>): Promise<FeedbackRecord> {
  const record = await store.feedback.record(entry);
  await store.audit.append(entry.runId, 'feedback-record', record, entry.at);
  return record;
}

/** The analyst's label for a run's verdict; agreement is the label equal to the agent's. */
export async function recordVerdictFeedback(
  store: Store,
  runId: string,
  input: Who & { verdict: AnalystVerdict },
): Promise<FeedbackRecord> {
  const run = await requireRun(store, runId);
  const agentVerdict = (run as RunView).verdict?.verdict ?? null;
  return save(store, {
    runId,
    kind: 'verdict',
    actionClass: null,
    approvalId: null,
    verdict: input.verdict,
    agree: agentVerdict === input.verdict,
    executed: false,
    critical: false,
    note: input.note,
    by: input.by,
    at: input.at,
  });
}

/**
 * The analyst's judgement of an approval decision: agree that the action was right (or wrong) to
 * propose. Disagreeing with an action that was approved and executed, of a reversible or destructive
 * tier, is a critical reversal (also when `--critical` says so).
 */
export async function recordApprovalFeedback(
  store: Store,
  runId: string,
  input: Who & { approvalId: string; agree: boolean; critical: boolean },
): Promise<FeedbackRecord> {
  await requireRun(store, runId);
  const approval = await store.approvals.get(input.approvalId);
  if (!approval || approval.runId !== runId)
    throw new StateError(
      `approval ${input.approvalId} is not one of run ${runId}'s; see \`warden approvals list --all --run ${runId}\``,
    );
  if (input.agree && input.critical)
    throw new InputError('--critical marks a wrong action; use it with --disagree');
  const executed = approval.status === 'approved' && approval.consumedAt !== null;
  return save(store, {
    runId,
    kind: 'approval',
    actionClass: approval.tool,
    approvalId: approval.id,
    verdict: null,
    agree: input.agree,
    executed,
    critical: !input.agree && (input.critical || (executed && writes.has(approval.tier))),
    note: input.note,
    by: input.by,
    at: input.at,
  });
}

/** The analyst's judgement of an action the run took or proposed (`--action <tool> --wrong|--right`). */
export async function recordActionFeedback(
  store: Store,
  runId: string,
  input: Who & { tool: string; wrong: boolean },
): Promise<FeedbackRecord> {
  const run = await requireRun(store, runId);
  const actions = ((run.state ?? {}) as RunStateView).actions ?? [];
  const taken = actions.filter((action) => action.tool === input.tool);
  if (taken.length === 0)
    throw new InputError(
      `run ${runId} neither took nor proposed ${input.tool}; its actions: ${actions.map((action) => action.tool).join(', ') || 'none'}`,
    );
  const executed = taken.some((action) => action.status === 'executed');
  const tier = (await toolTiers(store, runId)).get(input.tool) ?? 'destructive';
  return save(store, {
    runId,
    kind: 'action',
    actionClass: input.tool,
    approvalId: null,
    verdict: null,
    agree: !input.wrong,
    executed,
    critical: input.wrong && executed && writes.has(tier),
    note: input.note,
    by: input.by,
    at: input.at,
  });
}
