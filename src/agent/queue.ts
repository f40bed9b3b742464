import type { Gateway } from '../capability/gateway/index.js';
import type { LoopState, PendingCall } from './state.js';
import type { Verdict } from './verdict.js';

const tierRank = { read: 0, reversible: 1, destructive: 2 } as const;

export function tierOf(gateway: Gateway, tool: string) {
  return gateway.tools.find((candidate) => candidate.name === tool)?.tier ?? null;
}

/** Recommended actions in tier order, so reversible ones are not held up behind an approval. */
export function recommendationCalls(verdict: Verdict, gateway: Gateway): PendingCall[] {
  const rank = (tool: string) => tierRank[tierOf(gateway, tool) ?? 'destructive'];
  return verdict.recommendedActions
    .map((action, index) => ({
      id: `action-${index + 1}`,
      name: action.tool,
      input: action.args,
      origin: 'recommendation' as const,
    }))
    .sort((left, right) => rank(left.name) - rank(right.name));
}

/** Recommended actions still queued behind the one awaiting approval. */
export function queuedBehind(state: LoopState): PendingCall[] {
  return state.queue.slice(1).filter((call) => call.origin === 'recommendation');
}
