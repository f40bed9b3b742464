import type { Tier, WardenConfig } from '../config/index.js';
import {
  type AutonomyLevel,
  bundledPoliciesDirectory,
  type CedarPolicySet,
  type CedarRequest,
  loadCedarPolicies,
} from './cedar.js';
import { describeScope, findKillSwitch, type KillSwitch } from './killswitch.js';
import { defaultAutonomy } from './policy.js';
import type { TierSource } from './tiers.js';

type Gate =
  | 'runs'
  | 'runs, audited'
  | 'runs, notifies'
  | 'recommendation only'
  | 'human approval'
  | 'denied by policy'
  | 'stopped by kill switch';

export interface ToolExposure {
  tool: string;
  tier: Tier;
  tierSource: TierSource;
  /** What happens when the model asks for it (clean arguments, a target of unknown criticality). */
  gate: Gate;
  /** Its autonomy level. */
  autonomy: AutonomyLevel;
  /** The gate on a critical asset, with the distinct approvers it takes. */
  onCritical: { gate: Gate; approvers: number };
  /** The gate when its arguments carry untrusted (tainted) data. */
  whenTainted: Gate;
  /** Cedar policies that decide the base case. */
  policies: string[];
  /** Tools whose names say they change things but whose tier lets them run without a human. */
  warning: string | null;
}

export interface RiskReview {
  worstActions: ToolExposure[];
  stoppedBy: string[];
  untrustedInputs: string[];
  reach: ToolExposure[];
  warnings: string[];
}

const changingVerbs =
  /(^|[._-])(isolate|release|kill|disable|enable|delete|remove|wipe|revoke|reset|block|quarantine|update|write|create|close|set|run|exec|execute|shutdown|restart|drop|purge|send|post)([._-]|$)/i;

export interface RiskOptions {
  /** The live Cedar policy set; else `policy.directory` (or the bundled policies) with `policy.deny`. */
  policies?: CedarPolicySet;
  /** Autonomy level per action class; else config classes and tier defaults. */
  autonomy?: (tool: string, tier: Tier) => AutonomyLevel;
}

function gateOf(verdict: ReturnType<CedarPolicySet['evaluate']>, autonomy: AutonomyLevel): Gate {
  if (verdict.type === 'deny') return 'denied by policy';
  if (verdict.type === 'suggest') return 'recommendation only';
  if (verdict.type === 'require_approval') return 'human approval';
  return autonomy === 'notify' ? 'runs, notifies' : 'runs';
}

/** One tool's exposure under the live policies: the gate a request meets, plain, on a critical asset and tainted. */
export function exposureOf(
  tool: { name: string; tier: Tier; tierSource: TierSource },
  config: WardenConfig,
  switches: readonly KillSwitch[],
  options: RiskOptions = {},
): ToolExposure {
  const server = tool.name.split('.')[0];
  const policies =
    options.policies ??
    loadCedarPolicies({
      directory: config.policy.directory ?? bundledPoliciesDirectory,
      deny: config.policy.deny,
    });
  const autonomy =
    options.autonomy?.(tool.name, tool.tier) ??
    config.autonomy.classes[tool.name] ??
    defaultAutonomy[tool.tier];
  const request: CedarRequest = {
    runId: 'risk-review',
    tool: tool.name,
    tier: tool.tier,
    tierSource: tool.tierSource,
    autonomy,
    tainted: false,
    taintedArgs: [],
    injectionSignal: false,
    approval: { granted: false, approvers: 0 },
    asset: { kind: 'host', name: 'any', criticality: 'unknown' },
    args: {},
  };
  const base = policies.evaluate(request);
  const critical = policies.evaluate({
    ...request,
    asset: { kind: 'host', name: 'any', criticality: 'critical' },
  });
  const tainted = policies.evaluate({ ...request, tainted: true, taintedArgs: ['*'] });
  // No run id: only switches that stop a tool, server, tier or everything apply to the registry.
  const killed = findKillSwitch(switches, { runId: '', tool: tool.name, tier: tool.tier }) !== null;
  const gate: Gate = killed ? 'stopped by kill switch' : gateOf(base, autonomy);
  const looksChanging = changingVerbs.test(tool.name.slice(server?.length ?? 0));
  const warning =
    looksChanging && tool.tier === 'read' && gate.startsWith('runs')
      ? `${tool.name} is classified read (${tool.tierSource}) but its name says it changes something; it runs with no human in the loop`
      : null;
  return {
    tool: tool.name,
    tier: tool.tier,
    tierSource: tool.tierSource,
    gate,
    autonomy,
    onCritical: { gate: killed ? gate : gateOf(critical, autonomy), approvers: critical.approvers },
    whenTainted: killed ? gate : gateOf(tainted, autonomy),
    policies: base.reasons.map((reason) => reason.policy),
    warning,
  };
}

const tierRank: Record<Tier, number> = { read: 0, reversible: 1, destructive: 2 };

/** What attacker-influenced text each bundled server's results carry. */
const untrustedContent: Record<string, string> = {
  siem: 'event fields: command lines, script blocks, user agents, DNS names, file and registry paths, messages',
  edr: 'process command lines, file and registry paths, remote host names',
  intel: 'threat-intel free text and references',
  ticket: 'ticket and comment text, written by people and other tools',
  iam: 'user and group names and descriptions from the directory and telemetry',
};

/** The four questions a reviewer asks, answered from the live config, tool registry and kill switches. */
export function reviewRisk(
  tools: ReadonlyArray<{ name: string; tier: Tier; tierSource: TierSource }>,
  config: WardenConfig,
  switches: readonly KillSwitch[],
  options: RiskOptions = {},
): RiskReview {
  const policies =
    options.policies ??
    loadCedarPolicies({
      directory: config.policy.directory ?? bundledPoliciesDirectory,
      deny: config.policy.deny,
    });
  const reach = tools
    .map((tool) => exposureOf(tool, config, switches, { ...options, policies }))
    .sort((a, b) => tierRank[b.tier] - tierRank[a.tier] || a.tool.localeCompare(b.tool));
  const reachable = reach.filter(
    (exposure) => exposure.gate !== 'denied by policy' && exposure.gate !== 'stopped by kill switch',
  );
  const topRank = Math.max(-1, ...reachable.map((exposure) => tierRank[exposure.tier]));
  const worstActions = reachable.filter(
    (exposure) => tierRank[exposure.tier] === topRank || exposure.warning,
  );
  const { limits, approvals, control } = config;
  const gates = policies.policies
    .filter((policy) => policy.effect === 'forbid')
    .map(
      (policy) =>
        `Cedar ${policy.onDeny === 'deny' ? 'forbids' : policy.onDeny === 'suggest' ? 'turns into a recommendation' : `holds for ${policy.approvers} approver(s)`}: ${policy.reason} [${policy.id}, ${policy.source}]`,
    );
  const stoppedBy = [
    `Cedar policy set ${policies.version.slice(0, 12)} (${policies.policies.length} policies), deny by default, any evaluation error denies`,
    ...gates,
    `approvals are bound to (run, tool, argument hash, policy version), single-use, expiring after ${approvals.ttlMinutes} min; the model has no tool to approve`,
    `a destructive call on a host marked critical (assets inventory) needs at least ${approvals.criticalApprovers} distinct approvers`,
    `autonomy ladder: a class runs without a human only at notify/auto, promoted on recorded evidence (${config.autonomy.minDecisions}+ human decisions, ${(config.autonomy.minAgreement * 100).toFixed(0)}% agreement, no critical reversal) and demoted below ${(config.autonomy.demoteBelow * 100).toFixed(0)}%`,
    `at most ${limits.maxActions.destructive} destructive and ${limits.maxActions.reversible} reversible actions, ${limits.maxToolCalls} tool calls, ${limits.maxTokens} tokens and ${limits.maxSeconds} s of active time per run`,
    `a verdict below confidence ${control.minConfidence} is escalated and none of its actions run`,
    switches.length > 0
      ? `kill switches engaged now: ${switches.map((engaged) => `${engaged.id} (${describeScope(engaged.scope)})`).join('; ')}`
      : 'no kill switch engaged; `warden kill` stops everything, a tier, a server, a tool or a run within 200 ms',
    'every request, decision, approval and result is appended to a hash-chained, signed audit trail',
  ];
  const servers = [...new Set(tools.map((tool) => tool.name.split('.')[0] ?? ''))].sort();
  const untrustedInputs = [
    'the alert: every field (title, description, event fields) may be written by the attacker',
    ...servers.map(
      (server) =>
        `results of ${server}.* tools — ${untrustedContent[server] ?? 'whatever that server returns'}: delivered to the model as data, never as instructions`,
    ),
    'skills (runbooks) are trusted: they are local files whose content hash is audited on every load',
  ];
  const warnings = reach.flatMap((exposure) => (exposure.warning ? [exposure.warning] : []));
  return { worstActions, stoppedBy, untrustedInputs, reach, warnings };
}
