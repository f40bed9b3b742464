import type { Tier } from '../config/index.js';
import type { TierRegistry, TierSource } from './tiers.js';

export type Decision =
  | { type: 'allow'; reason: string }
  | { type: 'deny'; reason: string }
  | { type: 'require_approval'; reason: string };

export interface ToolRequest {
  runId: string;
  tool: string;
  args: Record<string, unknown>;
  /** Tool calls this run has already made through the gateway. */
  toolCallsSoFar: number;
}

export interface PolicyDecision {
  decision: Decision;
  tier: Tier | null;
  tierSource: TierSource | null;
}

export interface Policy {
  decide(request: ToolRequest): PolicyDecision;
}

/** Matches `server.tool` against a list of `server.tool` / `server.*` patterns. */
export function matchesToolPattern(tool: string, patterns: readonly string[]): boolean {
  const server = tool.split('.')[0];
  return patterns.some((pattern) => pattern === tool || pattern === `${server}.*` || pattern === '*');
}

/**
 * First-cut policy: budget, then deny list, then tier (read → allow, reversible → allow with
 * audit, destructive → require approval). Any exception while deciding is a deny.
 */
export function createPolicy(options: {
  tiers: TierRegistry;
  deny: readonly string[];
  maxToolCalls: number;
  knownTools: (tool: string) => boolean;
}): Policy {
  function decideUnsafe(request: ToolRequest): PolicyDecision {
    if (request.toolCallsSoFar >= options.maxToolCalls) {
      return {
        decision: {
          type: 'deny',
          reason: `budget: limits.maxToolCalls (${options.maxToolCalls}) reached for this run`,
        },
        tier: null,
        tierSource: null,
      };
    }
    if (!options.knownTools(request.tool)) {
      return {
        decision: { type: 'deny', reason: `unknown tool ${request.tool}: no connected server offers it` },
        tier: null,
        tierSource: null,
      };
    }
    const { tier, source } = options.tiers.tierOf(request.tool);
    if (matchesToolPattern(request.tool, options.deny)) {
      return {
        decision: { type: 'deny', reason: `${request.tool} is on policy.deny` },
        tier,
        tierSource: source,
      };
    }
    const decision: Decision =
      tier === 'read'
        ? { type: 'allow', reason: 'read tier: runs and is logged' }
        : tier === 'reversible'
          ? { type: 'allow', reason: 'reversible tier: runs with an audit trail' }
          : {
              type: 'require_approval',
              reason:
                source === 'unclassified'
                  ? 'destructive tier (tool not classified by Warden): needs a human approval'
                  : 'destructive tier: needs a human approval',
            };
    return { decision, tier, tierSource: source };
  }

  return {
    decide(request) {
      try {
        return decideUnsafe(request);
      } catch (error) {
        const cause = error instanceof Error ? error.message : String(error);
        return {
          decision: { type: 'deny', reason: `policy check failed (${cause}): denied` },
          tier: null,
          tierSource: null,
        };
      }
    },
  };
}
