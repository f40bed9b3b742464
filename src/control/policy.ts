import type { Tier } from '../config/index.js';
import { describeScope, findKillSwitch, type KillSwitch } from './killswitch.js';
import type { TierRegistry, TierSource } from './tiers.js';

export type Decision =
  | { type: 'allow'; reason: string }
  | { type: 'deny'; reason: string }
  | { type: 'require_approval'; reason: string };

export interface ActionCounts {
  reversible: number;
  destructive: number;
}

export interface ToolRequest {
  runId: string;
  tool: string;
  args: Record<string, unknown>;
  /** Tool calls this run has already made through the gateway. */
  toolCallsSoFar: number;
  /** Writes this run has already made or proposed, by tier. */
  actionsSoFar: ActionCounts;
  /**
   * Arguments not traceable to a trusted origin (the alert's trusted fields, the analyst's
   * request, trusted tool-result fields); see control/taint.ts. `args` names the tainted ones.
   */
  taint?: { tainted: boolean; args: string[]; detail?: string };
  /** An injection signal was raised in this run's data: its autonomy is paused. */
  injection?: boolean;
}

export interface PolicyDecision {
  decision: Decision;
  tier: Tier | null;
  tierSource: TierSource | null;
  /** Which check decided: kill-switch, budget, unknown-tool, deny-list, tier, or error. */
  check: string;
}

export interface Policy {
  decide(request: ToolRequest): PolicyDecision;
}

export interface PolicyOptions {
  tiers: TierRegistry;
  deny: readonly string[];
  maxToolCalls: number;
  maxActions: ActionCounts;
  knownTools: (tool: string) => boolean;
  /** Engaged kill switches, read at every decision. */
  killSwitches: () => readonly KillSwitch[];
}

/** Matches `server.tool` against a list of `server.tool` / `server.*` patterns. */
export function matchesToolPattern(tool: string, patterns: readonly string[]): boolean {
  const server = tool.split('.')[0];
  return patterns.some((pattern) => pattern === tool || pattern === `${server}.*` || pattern === '*');
}

export function killReason(engaged: KillSwitch): string {
  return `kill switch ${engaged.id} (${describeScope(engaged.scope)}) engaged by ${engaged.engagedBy}: ${engaged.reason}`;
}

/**
 * First-cut policy, in the order of ARCHITECTURE.md: kill switch, budget, tier lookup, deny
 * list, then the tier's rule (read → allow, reversible → allow with audit, destructive →
 * require approval). Deny by default: any exception while deciding is a deny.
 */
export function createPolicy(options: PolicyOptions): Policy {
  function decideUnsafe(request: ToolRequest): PolicyDecision {
    const { tier, source } = options.tiers.tierOf(request.tool);
    const deny = (check: string, reason: string): PolicyDecision => ({
      decision: { type: 'deny', reason },
      tier,
      tierSource: source,
      check,
    });
    const engaged = findKillSwitch(options.killSwitches(), {
      runId: request.runId,
      tool: request.tool,
      tier,
    });
    if (engaged) return deny('kill-switch', killReason(engaged));
    if (request.toolCallsSoFar >= options.maxToolCalls) {
      return deny('budget', `budget: limits.maxToolCalls (${options.maxToolCalls}) reached for this run`);
    }
    if (tier !== 'read' && request.actionsSoFar[tier] >= options.maxActions[tier]) {
      return deny(
        'budget',
        `budget: limits.maxActions.${tier} (${options.maxActions[tier]}) reached for this run`,
      );
    }
    if (!options.knownTools(request.tool))
      return deny('unknown-tool', `unknown tool ${request.tool}: no connected server offers it`);
    if (matchesToolPattern(request.tool, options.deny))
      return deny('deny-list', `${request.tool} is on policy.deny`);
    const write = tier === 'reversible' || tier === 'destructive';
    const guards: string[] = [];
    if (write && request.taint?.tainted)
      guards.push(
        `tainted arguments ${request.taint.args.join(', ')}${request.taint.detail ? `: ${request.taint.detail}` : ''}; a human must confirm them`,
      );
    if (write && request.injection)
      guards.push('an injection signal was raised in this run, so every write needs a human approval');
    if (guards.length > 0) {
      const base = tier === 'destructive' ? 'destructive tier: needs a human approval; ' : '';
      return {
        decision: { type: 'require_approval', reason: `${base}${guards.join('; ')}` },
        tier,
        tierSource: source,
        check: request.taint?.tainted && write ? 'taint' : 'injection',
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
    return { decision, tier, tierSource: source, check: 'tier' };
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
          check: 'error',
        };
      }
    },
  };
}
