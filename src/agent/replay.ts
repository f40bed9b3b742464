import type { WardenConfig } from '../config/index.js';
import { type ActionCounts, createPolicy, createTierRegistry } from '../control/index.js';
import type { AuditEventRecord } from '../store/index.js';

export interface RecordedDecision {
  decision: string;
  reason: string;
  check: string | null;
}

export interface DecisionChange {
  seq: number;
  callId: string;
  tool: string;
  recorded: RecordedDecision;
  replayed: RecordedDecision;
}

export interface DecisionReplay {
  runId: string;
  evaluated: number;
  /** Decisions taken by a kill switch: a fact of the moment, not of the policy, so not re-evaluated. */
  skipped: number;
  changes: DecisionChange[];
}

interface RecordedTool {
  name: string;
  tier: string;
  tierSource: string;
  bundledKind?: string | null;
}

type Data = Record<string, unknown>;

/**
 * Re-decides every tool request a run recorded under `config` (the live one, or a proposed
 * change), walking the run's own history for budgets, and lists the decisions that would differ.
 * A call made with an approval receipt counts as unchanged while the new rules still require one.
 */
export function replayDecisions(
  runId: string,
  events: readonly AuditEventRecord[],
  config: WardenConfig,
): DecisionReplay {
  const start = events.find((event) => event.type === 'run-start');
  const tools = (((start?.data ?? {}) as Data).tools ?? []) as RecordedTool[];
  const bundledKinds = new Map<string, string>();
  for (const tool of tools) {
    const server = tool.name.split('.')[0] ?? '';
    const kind = tool.bundledKind ?? (tool.tierSource === 'bundled-default' ? server : null);
    if (kind) bundledKinds.set(server, kind);
  }
  const known = new Set(tools.map((tool) => tool.name));
  const policy = createPolicy({
    tiers: createTierRegistry({ overrides: config.tiers, bundledKinds }),
    deny: config.policy.deny,
    maxToolCalls: config.limits.maxToolCalls,
    maxActions: config.limits.maxActions,
    knownTools: (tool) => known.has(tool),
    killSwitches: () => [],
  });
  const replay: DecisionReplay = { runId, evaluated: 0, skipped: 0, changes: [] };
  const actions: ActionCounts = { reversible: 0, destructive: 0 };
  let toolCalls = 0;
  for (const [index, event] of events.entries()) {
    if (event.type !== 'tool-call-request') continue;
    const request = event.data as Data;
    const decided = events
      .slice(index + 1)
      .find((later) => later.type === 'policy-decision' && (later.data as Data).callId === request.callId);
    if (!decided) continue;
    const data = decided.data as Data;
    const recorded: RecordedDecision = {
      decision: String(data.decision),
      reason: String(data.reason),
      check: (data.check as string | undefined) ?? null,
    };
    const tool = String(request.tool);
    const receipt = typeof request.receipt === 'string';
    if (recorded.check === 'kill-switch') {
      replay.skipped++;
    } else {
      replay.evaluated++;
      const next = policy.decide({
        runId,
        tool,
        args: (request.args ?? {}) as Record<string, unknown>,
        toolCallsSoFar: toolCalls,
        actionsSoFar: { ...actions },
      });
      const replayed: RecordedDecision = {
        decision: next.decision.type,
        reason: next.decision.reason,
        check: next.check,
      };
      const same = receipt
        ? next.decision.type === 'require_approval'
        : next.decision.type === recorded.decision;
      if (!same)
        replay.changes.push({ seq: event.seq, callId: String(request.callId), tool, recorded, replayed });
    }
    // Budgets follow what really happened in the run, as the loop counted it.
    toolCalls++;
    const tier = data.tier;
    if (!receipt && recorded.decision !== 'deny' && (tier === 'reversible' || tier === 'destructive'))
      actions[tier]++;
  }
  return replay;
}
