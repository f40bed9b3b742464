import { chainProcessOf, isOfInterest, keyOf, parentOf } from './chain.js';
import { isPublicIp } from './indicators.js';
import { administrativeCommand, commandArguments, interactiveParents, shells } from './lexicon.js';
import { clip, quoteCommand } from './redact.js';
import type { ChainProcess, Feature, FeatureContext, Severity } from './types.js';

/** Evidence of legitimate use lowers the score; the rule's severity is a light prior only. */
export const benignWeights = {
  interactiveAdministration: -2,
  internalOnlyNetwork: -0.5,
  noIntelHits: -0.5,
} as const;

export const severityPrior: Record<Severity, number> = {
  informational: -1,
  low: -0.5,
  medium: 0,
  high: 0.5,
  critical: 1,
};

/** A positive feature at least this heavy makes absence-of-evidence features moot. */
export const strongWeight = 2;

/** Positive features an administrator's console session may still show. */
const compatibleWithAdministration = new Set(['discovery']);
const flagWithValue =
  /^[-/](?:ep|ex|executionpolicy|w|windowstyle|version|v|file|f|inputformat|outputformat)$/i;
const scriptFollows = /^[-/](?:c|command|k|r)$/i;

/** What a shell was told to run, without the executable and its options; '' for a bare console. */
export function scriptText(commandLine: string): string {
  const tokens = commandLine.trim().match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
  let index = 1;
  while (index < tokens.length && /^[-/]/.test(tokens[index] ?? '')) {
    const token = tokens[index] ?? '';
    index += scriptFollows.test(token) ? 1 : flagWithValue.test(token) ? 2 : 1;
    if (scriptFollows.test(token)) break;
  }
  return tokens
    .slice(index)
    .join(' ')
    .replace(/^["'{&\s]+|["'}\s]+$/g, '');
}

function make(
  id: string,
  weight: number,
  claim: string,
  nodes: readonly ChainProcess[],
  refs: readonly string[],
): Feature {
  return {
    id,
    weight,
    claim,
    refs: [...new Set([...nodes.flatMap((node) => node.refs), ...refs])],
    techniques: [],
    processKeys: nodes.map(keyOf),
  };
}

function interactiveAdministration(context: FeatureContext, positive: readonly Feature[]): Feature | null {
  if (positive.some((candidate) => !compatibleWithAdministration.has(candidate.id))) return null;
  const focal = context.chain.find((node) => node.relation === 'focal');
  if (!focal) return null;
  let launcher = parentOf(context.chain, focal);
  while (launcher && shells.has(launcher.name)) launcher = parentOf(context.chain, launcher);
  if (!launcher || !interactiveParents.has(launcher.name)) return null;
  const consoles = context.chain.filter((node) => node.relation !== 'ancestor' && shells.has(node.name));
  if (
    !consoles.every(
      (node) =>
        scriptText(node.commandLine) === '' || administrativeCommand.test(scriptText(node.commandLine)),
    )
  )
    return null;
  const shown = consoles.length > 0 ? consoles : [focal];
  const claim = `Started interactively from ${launcher.name} with plain, unencoded administrative commands: ${shown
    .slice(0, 2)
    .map(
      (node) =>
        `${node.name} ${commandArguments(node.commandLine) ? quoteCommand(commandArguments(node.commandLine), 100) : '(interactive console)'}`,
    )
    .join('; ')}.`;
  return make(
    'interactive-administration',
    benignWeights.interactiveAdministration,
    claim,
    [launcher, ...shown],
    [],
  );
}

/** Benign evidence, the severity prior and host context (weight 0), given the positive features. */
export function benignFeatures(context: FeatureContext, positive: readonly Feature[]): Feature[] {
  const { alert, observations } = context;
  const features: Array<Feature | null> = [interactiveAdministration(context, positive)];
  const intelHit = observations.intel.some((finding) => finding.verdict === 'malicious');
  // Absence of evidence (no external traffic, no intel hit) never cancels a strong positive finding.
  const strongEvidence = positive.some((candidate) => candidate.weight >= strongWeight);
  const chainTraffic = observations.connections.filter((connection) => {
    const node = chainProcessOf(observations, connection.processGuid);
    return node !== undefined && isOfInterest(node);
  });
  if (
    !strongEvidence &&
    observations.networkChecked &&
    chainTraffic.length > 0 &&
    !intelHit &&
    !chainTraffic.some((connection) => isPublicIp(connection.destinationIp))
  ) {
    const destinations = [
      ...new Set(
        chainTraffic.map((connection) => `${connection.destinationIp}:${connection.destinationPort ?? '?'}`),
      ),
    ];
    const claim = `Network activity of the chain stays on internal addresses: ${destinations.slice(0, 4).join(', ')}.`;
    features.push(
      make(
        'internal-only-network',
        benignWeights.internalOnlyNetwork,
        claim,
        [],
        chainTraffic.map((connection) => connection.ref),
      ),
    );
  }
  if (!strongEvidence && observations.intel.length > 0 && !intelHit) {
    const values = observations.intel.map((finding) => clip(finding.value, 80));
    const claim = `Threat intel has no verdict on the ${values.length} indicator(s) checked (${values.slice(0, 4).join(', ')}); absence of a hit is weak evidence.`;
    features.push(
      make(
        'no-intel-hits',
        benignWeights.noIntelHits,
        claim,
        [],
        observations.intel.map((finding) => finding.ref),
      ),
    );
  }
  const prior = severityPrior[alert.severity];
  if (prior !== 0) {
    features.push(
      make(
        'severity-prior',
        prior,
        `Alert severity ${alert.severity} (the rule's prior, weighted lightly).`,
        [],
        [alert.ref],
      ),
    );
  }
  if (observations.host) {
    const { host, criticality, role, isolated, ref } = observations.host;
    const claim = `Host ${clip(host, 80)}: criticality ${clip(criticality, 20)}${role ? `, role ${clip(role, 60)}` : ''}${isolated ? ', already isolated' : ''}.`;
    features.push(make('host-context', 0, claim, [], [ref]));
  }
  return features.filter((candidate): candidate is Feature => candidate !== null);
}
