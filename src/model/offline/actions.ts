import type { Assessment } from './assess.js';
import { keyOf, orderedChain } from './chain.js';
import { contentHandlers, systemProcesses } from './lexicon.js';
import { clip } from './redact.js';
import type { AlertFacts, ChainProcess, Feature, Observations, OfflineAction } from './types.js';

/** Below this confidence a malicious verdict asks a human before any containment. */
export const containmentConfidence = 0.7;

export interface ActionContext {
  alert: AlertFacts;
  observations: Observations;
  features: readonly Feature[];
  assessment: Assessment;
  techniques: readonly string[];
  tools: ReadonlySet<string>;
}

/** `explorer.exe → wscript.exe → [powershell.exe] → whoami.exe`, the focal process bracketed. */
export function chainText(observations: Observations): string {
  const chain = orderedChain(observations.processes);
  const ancestors = chain
    .filter((node) => node.relation === 'ancestor')
    .sort((left, right) => left.depth - right.depth);
  const focal = chain
    .filter((node) => node.relation === 'focal')
    .map((node) => `[${node.name || 'unknown'}]`);
  const descendants = chain.filter((node) => node.relation === 'descendant');
  const tail =
    descendants.length > 4
      ? [...descendants.slice(0, 4).map((node) => node.name), `… ${descendants.length - 4} more`]
      : descendants.map((node) => node.name);
  return clip([...ancestors.map((node) => node.name), ...focal, ...tail].filter(Boolean).join(' → '), 300);
}

/** Processes carrying at least this much malicious weight are payload candidates. */
const payloadWeight = 3;

/**
 * The payload to terminate: the deepest process of the lineage that carries real malicious
 * weight (the launcher has usually exited; what it started keeps running), else the heaviest.
 */
export function killTarget(
  observations: Observations,
  features: readonly Feature[],
): ChainProcess | undefined {
  const weightOf = new Map<string, number>();
  for (const feature of features) {
    if (feature.weight <= 0) continue;
    for (const key of feature.processKeys) weightOf.set(key, (weightOf.get(key) ?? 0) + feature.weight);
  }
  const weight = (node: ChainProcess) => weightOf.get(keyOf(node)) ?? 0;
  const candidates = orderedChain(observations.processes).filter(
    (node) =>
      node.guid && !systemProcesses.has(node.name) && !contentHandlers.has(node.name) && weight(node) > 0,
  );
  const payloads = candidates.filter((node) => weight(node) >= payloadWeight);
  if (payloads.length > 0)
    return [...payloads].sort((left, right) => right.depth - left.depth || weight(right) - weight(left))[0];
  return [...candidates].sort((left, right) => weight(right) - weight(left) || right.depth - left.depth)[0];
}

function ticketSeverity(context: ActionContext): 'medium' | 'high' | 'critical' {
  const critical = ['high', 'critical'].includes(context.observations.host?.criticality ?? '');
  if (context.assessment.verdict === 'malicious') return critical ? 'critical' : 'high';
  return critical ? 'high' : 'medium';
}

function ticketBody(context: ActionContext, host: string | null, planned: readonly string[]): string {
  const { alert, assessment, features, techniques } = context;
  const findings = features
    .filter((feature) => feature.weight !== 0)
    .sort((left, right) => Math.abs(right.weight) - Math.abs(left.weight))
    .slice(0, 8)
    .map((feature) => `- ${clip(feature.claim, 300)} (${feature.weight > 0 ? '+' : ''}${feature.weight})`);
  const lines = [
    `Verdict: ${assessment.verdict} (confidence ${assessment.confidence}, score ${assessment.score}) for alert ${clip(alert.id, 80)} on host ${host ? clip(host, 80) : 'unknown'}.`,
    `Process chain: ${chainText(context.observations) || 'not established'}.`,
    'Findings:',
    ...(findings.length > 0 ? findings : ['- none beyond the alert itself']),
    `Techniques: ${techniques.length > 0 ? techniques.join(', ') : 'none established'}.`,
  ];
  if (assessment.gaps.length > 0) lines.push(`Not established: ${assessment.gaps.join('; ')}.`);
  if (assessment.verdict === 'suspicious')
    lines.push('Escalated to a human analyst: the evidence is not conclusive either way.');
  if (planned.length > 0) lines.push(`Proposed containment (subject to approval): ${planned.join('; ')}.`);
  const body = lines.join('\n');
  return body.length <= 3500 ? body : `${body.slice(0, 3499)}…`;
}

/**
 * General response rules: confident malice → contain (isolate, kill) and ticket; weaker malice
 * or suspicion → ticket for a human; benign → nothing. Only tools this run lists; the host is
 * the alert's (or the EDR's), never one named in attacker-influenced text.
 */
export function recommendActions(context: ActionContext): OfflineAction[] {
  const { alert, observations, assessment, tools, features } = context;
  if (assessment.verdict === 'benign') return [];
  const host = alert.host ?? observations.host?.host ?? null;
  const actions: OfflineAction[] = [];
  const planned: string[] = [];
  const contain =
    assessment.verdict === 'malicious' && assessment.confidence >= containmentConfidence && host !== null;
  if (contain && tools.has('edr.isolate_host') && !observations.host?.isolated) {
    const reason = clip(
      `Malicious activity on ${host} (confidence ${assessment.confidence}): ${chainText(observations)}. Isolate to stop spread and command-and-control.`,
      500,
    );
    actions.push({ tool: 'edr.isolate_host', args: { host, reason }, reason });
    planned.push(`isolate host ${clip(host, 80)}`);
  }
  const target = contain ? killTarget(observations, features) : undefined;
  if (contain && target?.guid && tools.has('edr.kill_process')) {
    const reason = clip(`Terminate the malicious process ${target.name} (${target.guid}) on ${host}.`, 500);
    actions.push({ tool: 'edr.kill_process', args: { host, processGuid: target.guid, reason }, reason });
    planned.push(`kill ${target.name} (${target.guid})`);
  }
  if (tools.has('ticket.create_ticket')) {
    const severity = ticketSeverity(context);
    const title = clip(
      `[Warden] ${assessment.verdict === 'malicious' ? 'Malicious' : 'Suspicious'} activity on ${host ?? 'an unidentified host'}${context.techniques.length > 0 ? ` (${context.techniques.slice(0, 3).join(', ')})` : ''}`,
      150,
    );
    const body = ticketBody(context, host, planned);
    const reason = contain
      ? 'Record the incident and the containment for the response team.'
      : assessment.verdict === 'malicious'
        ? 'Malicious indicators but confidence below the containment bar: a human decides on containment.'
        : 'Escalate to a human analyst with what is known and what is not.';
    actions.push({
      tool: 'ticket.create_ticket',
      args: { title, severity, body, alertId: clip(alert.id, 200) },
      reason,
    });
  }
  return actions;
}
