import type { Tier } from '../config/index.js';
import type { AssetRegistry } from './assets.js';
import {
  type AutonomyLevel,
  bundledPoliciesDirectory,
  type CedarPolicySet,
  type CedarRequest,
  loadCedarPolicies,
  type PolicyReason,
} from './cedar.js';
import { describeScope, findKillSwitch, type KillSwitch } from './killswitch.js';
import type { TierRegistry, TierSource } from './tiers.js';

export type Decision =
  | { type: 'allow'; reason: string }
  | { type: 'deny'; reason: string }
  | { type: 'require_approval'; reason: string }
  /** Autonomy level `suggest`: the write is recorded as a recommendation and not executed. */
  | { type: 'suggest'; reason: string };

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
  /** Untrusted data in the arguments (provenance); untainted when absent. */
  taint?: { tainted: boolean; args: string[]; detail?: string };
  /** A prompt-injection signal was seen in this run; false when absent. */
  injectionSignal?: boolean;
  /** A valid approval receipt presented for exactly this call, checked by the caller before deciding. */
  approval?: { approvers: number };
}

export interface PolicyDecision {
  decision: Decision;
  tier: Tier | null;
  tierSource: TierSource | null;
  /** Which check decided: kill-switch, budget, unknown-tool, cedar, or error. */
  check: string;
  /** Content hash of the Cedar policy set that decided; null when a pre-check decided first. */
  policyVersion: string | null;
  /** Determining policies and their reasons. */
  reasons: PolicyReason[];
  /** The action class's autonomy level, when Cedar was asked. */
  autonomy: AutonomyLevel | null;
  /** Distinct approvers a `require_approval` asks for. */
  approvers: number;
  /** Autonomy level `notify`: the call runs and a notification is recorded. */
  notify: boolean;
  /** The kill switch that denied the call (check `kill-switch`), recorded so a replay can engage it again. */
  killSwitch?: KillSwitch;
}

export interface Policy {
  /** Content hash of the loaded Cedar policy set. */
  readonly version: string;
  readonly cedar: CedarPolicySet;
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
  /** Folder of `*.cedar` files; the bundled `policies/` when absent. */
  policyDirectory?: string;
  /** Asset criticality from Warden's own inventory. */
  assets?: AssetRegistry;
  /** Autonomy level of an action class; the tier defaults when absent. */
  autonomy?: (tool: string, tier: Tier) => AutonomyLevel;
}

export const defaultAutonomy: Readonly<Record<Tier, AutonomyLevel>> = {
  read: 'auto',
  reversible: 'notify',
  destructive: 'approve',
};

/** Matches `server.tool` against a list of `server.tool` / `server.*` patterns. */
export function matchesToolPattern(tool: string, patterns: readonly string[]): boolean {
  const server = tool.split('.')[0];
  return patterns.some((pattern) => pattern === tool || pattern === `${server}.*` || pattern === '*');
}

export function killReason(engaged: KillSwitch): string {
  return `kill switch ${engaged.id} (${describeScope(engaged.scope)}) engaged by ${engaged.engagedBy}: ${engaged.reason}`;
}

/** The asset a call targets, from its `host` or `user` argument, with criticality from Warden's inventory. */
export function targetAsset(args: Record<string, unknown>, assets?: AssetRegistry): CedarRequest['asset'] {
  if (typeof args.host === 'string' && args.host.length > 0)
    return { kind: 'host', name: args.host, criticality: assets?.criticalityOf(args.host) ?? 'unknown' };
  for (const key of ['user', 'username'] as const) {
    const user = args[key];
    if (typeof user === 'string' && user.length > 0)
      return { kind: 'user', name: user, criticality: assets?.criticalityOfUser(user) ?? 'unknown' };
  }
  return { kind: 'none', name: '', criticality: 'unknown' };
}

function describeReasons(reasons: readonly PolicyReason[], taint: ToolRequest['taint']): string {
  const text = reasons.map((entry) => `${entry.reason} [${entry.policy}]`).join('; ');
  return taint?.tainted && taint.args.length > 0
    ? `${text} (tainted arguments: ${taint.args.join(', ')}${taint.detail ? `; ${taint.detail}` : ''})`
    : text;
}

/**
 * The policy decision point, in the order of ARCHITECTURE.md: kill switch and budgets as fast
 * pre-checks, then tier (per tool and argument), taint, autonomy level and asset criticality
 * into Cedar. Deny by default: any exception or evaluation error is a deny.
 */
export function createPolicy(options: PolicyOptions): Policy {
  const cedar = loadCedarPolicies({
    directory: options.policyDirectory ?? bundledPoliciesDirectory,
    deny: options.deny,
  });
  const autonomyOf = options.autonomy ?? ((_tool: string, tier: Tier) => defaultAutonomy[tier]);

  function decideUnsafe(request: ToolRequest): PolicyDecision {
    const { tier, source } = options.tiers.tierOf(request.tool, request.args);
    const base = {
      tier,
      tierSource: source,
      policyVersion: null,
      autonomy: null,
      approvers: 1,
      notify: false,
    };
    const deny = (check: string, reason: string): PolicyDecision => ({
      ...base,
      decision: { type: 'deny', reason },
      check,
      reasons: [{ policy: check, reason }],
    });
    const engaged = findKillSwitch(options.killSwitches(), {
      runId: request.runId,
      tool: request.tool,
      tier,
    });
    if (engaged) return { ...deny('kill-switch', killReason(engaged)), killSwitch: engaged };
    if (request.toolCallsSoFar >= options.maxToolCalls)
      return deny('budget', `budget: limits.maxToolCalls (${options.maxToolCalls}) reached for this run`);
    if (tier !== 'read' && request.actionsSoFar[tier] >= options.maxActions[tier])
      return deny(
        'budget',
        `budget: limits.maxActions.${tier} (${options.maxActions[tier]}) reached for this run`,
      );
    if (!options.knownTools(request.tool))
      return deny('unknown-tool', `unknown tool ${request.tool}: no connected server offers it`);
    const autonomy = autonomyOf(request.tool, tier);
    const verdict = cedar.evaluate({
      runId: request.runId,
      tool: request.tool,
      tier,
      tierSource: source,
      autonomy,
      tainted: request.taint?.tainted === true,
      taintedArgs: request.taint?.args ?? [],
      injectionSignal: request.injectionSignal === true,
      approval: { granted: request.approval !== undefined, approvers: request.approval?.approvers ?? 0 },
      asset: targetAsset(request.args, options.assets),
      args: request.args,
    });
    return {
      decision: {
        type: verdict.type,
        reason: describeReasons(verdict.reasons, tier === 'read' ? undefined : request.taint),
      },
      tier,
      tierSource: source,
      check: 'cedar',
      policyVersion: cedar.version,
      reasons: verdict.reasons,
      autonomy,
      approvers: verdict.approvers,
      notify: verdict.type === 'allow' && autonomy === 'notify',
    };
  }

  return {
    version: cedar.version,
    cedar,
    decide(request) {
      try {
        return decideUnsafe(request);
      } catch (error) {
        const cause = error instanceof Error ? error.message : String(error);
        const reason = `policy check failed (${cause}): denied`;
        return {
          decision: { type: 'deny', reason },
          tier: null,
          tierSource: null,
          check: 'error',
          policyVersion: cedar.version,
          reasons: [{ policy: 'error', reason }],
          autonomy: null,
          approvers: 1,
          notify: false,
        };
      }
    },
  };
}
