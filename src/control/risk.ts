import type { Tier, WardenConfig } from '../config/index.js';
import { describeScope, findKillSwitch, type KillSwitch } from './killswitch.js';
import { matchesToolPattern } from './policy.js';
import type { TierSource } from './tiers.js';

export interface ToolExposure {
  tool: string;
  tier: Tier;
  tierSource: TierSource;
  /** What happens when the model asks for it. */
  gate: 'runs' | 'runs, audited' | 'human approval' | 'denied by policy' | 'stopped by kill switch';
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

/** One tool's exposure under the current config: its tier and the gate a request meets. */
export function exposureOf(
  tool: { name: string; tier: Tier; tierSource: TierSource },
  config: WardenConfig,
  switches: readonly KillSwitch[],
): ToolExposure {
  const server = tool.name.split('.')[0];
  // No run id: only switches that stop a tool, server, tier or everything apply to the registry.
  const killed = findKillSwitch(switches, { runId: '', tool: tool.name, tier: tool.tier }) !== null;
  const gate: ToolExposure['gate'] = killed
    ? 'stopped by kill switch'
    : matchesToolPattern(tool.name, config.policy.deny)
      ? 'denied by policy'
      : tool.tier === 'destructive'
        ? 'human approval'
        : tool.tier === 'reversible'
          ? 'runs, audited'
          : 'runs';
  const looksChanging = changingVerbs.test(tool.name.slice(server?.length ?? 0));
  const warning =
    looksChanging && tool.tier === 'read' && (gate === 'runs' || gate === 'runs, audited')
      ? `${tool.name} is classified read (${tool.tierSource}) but its name says it changes something; it runs with no human in the loop`
      : null;
  return { tool: tool.name, tier: tool.tier, tierSource: tool.tierSource, gate, warning };
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
): RiskReview {
  const reach = tools
    .map((tool) => exposureOf(tool, config, switches))
    .sort((a, b) => tierRank[b.tier] - tierRank[a.tier] || a.tool.localeCompare(b.tool));
  const reachable = reach.filter(
    (exposure) => exposure.gate !== 'denied by policy' && exposure.gate !== 'stopped by kill switch',
  );
  const topRank = Math.max(-1, ...reachable.map((exposure) => tierRank[exposure.tier]));
  const worstActions = reachable.filter(
    (exposure) => tierRank[exposure.tier] === topRank || exposure.warning,
  );
  const { limits, approvals, control } = config;
  const stoppedBy = [
    `destructive calls wait for a human approval bound to (run, tool, argument hash), single-use, expiring after ${approvals.ttlMinutes} min; the model has no tool to approve`,
    `a destructive call on a host marked critical (assets inventory) needs ${approvals.criticalApprovers} distinct approvers`,
    `at most ${limits.maxActions.destructive} destructive and ${limits.maxActions.reversible} reversible actions, ${limits.maxToolCalls} tool calls, ${limits.maxTokens} tokens and ${limits.maxSeconds} s of active time per run`,
    `a verdict below confidence ${control.minConfidence} is escalated and none of its actions run`,
    config.policy.deny.length > 0
      ? `policy.deny refuses ${config.policy.deny.join(', ')}`
      : 'policy.deny is empty',
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
