import { behaviourFeatures } from './behaviour.js';
import { benignFeatures } from './benign.js';
import { orderedChain, parentOf } from './chain.js';
import { checklistFeatures } from './checklist-findings.js';
import {
  downloadCradles,
  matching,
  obfuscationPatterns,
  proxyExecution,
  stealthFlags,
  stringExecution,
  tamperingPatterns,
} from './detectors.js';
import { decodedPayloads, expandCommandLine } from './indicators.js';
import {
  administrativeTools,
  commandArguments,
  contentHandlers,
  elevationHosts,
  executablePathsIn,
  isUserWritablePath,
  lolbins,
  remoteExecutionParents,
  runsOsScript,
  serverProcesses,
  shells,
} from './lexicon.js';
import { networkFeatures } from './network.js';
import { describe, feature, featureWeights, patternFeature, unique } from './signals.js';
import type { AlertFacts, ChainProcess, Feature, FeatureContext, Observations } from './types.js';

interface LineageRule {
  id: string;
  weight: number;
  parents: ReadonlySet<string>;
  /** What the pair means, for the claim. */
  meaning: string;
  /** Technique of the pair itself; null = the child's own (LOLBin or shell) technique. */
  technique: (parent: ChainProcess) => string | null;
  childAllowed: (child: ChainProcess) => boolean;
}

const launchesCode = (child: ChainProcess) => lolbins.has(child.name) || shells.has(child.name);

/** Parent → child pairs a Tier-1 analyst treats as suspicious on sight. */
const lineageRules: readonly LineageRule[] = [
  {
    id: 'delivery-lineage',
    weight: featureWeights.deliveryLineage,
    parents: new Set([...contentHandlers, ...lolbins.keys()]),
    meaning: 'a document, browser or script host starting a LOLBin or shell',
    technique: () => null,
    childAllowed: launchesCode,
  },
  {
    id: 'server-spawned-shell',
    weight: featureWeights.serverSpawnedShell,
    parents: serverProcesses,
    meaning: 'a server process starting a shell: web shell or command injection',
    technique: () => 'T1505.003',
    childAllowed: launchesCode,
  },
  {
    id: 'elevation-lineage',
    weight: featureWeights.elevationLineage,
    parents: elevationHosts,
    meaning: 'an auto-elevating binary or COM surrogate starting a shell: UAC bypass',
    technique: () => 'T1548.002',
    childAllowed: launchesCode,
  },
  {
    id: 'service-spawned-shell',
    weight: featureWeights.serviceSpawnedShell,
    parents: new Set(['services.exe']),
    meaning: 'the service control manager starting a shell: a service whose binary path runs a command',
    technique: () => 'T1543.003',
    childAllowed: (child) => shells.has(child.name),
  },
  {
    id: 'remote-execution-lineage',
    weight: featureWeights.remoteExecutionLineage,
    parents: remoteExecutionParents,
    meaning: 'WMI or WinRM starting a command on this host',
    technique: (parent) => (parent.name === 'wmiprvse.exe' ? 'T1047' : 'T1021.006'),
    childAllowed: (child) => launchesCode(child) || administrativeTools.has(child.name),
  },
];

function lineageFeatures({ chain }: FeatureContext): Feature[] {
  const features: Feature[] = [];
  for (const rule of lineageRules) {
    const pairs: Array<[ChainProcess, ChainProcess]> = [];
    for (const child of chain) {
      const parent = parentOf(chain, child);
      // A diagnostic script shipped with Windows starting its own helpers is not delivery.
      const osScript = parent !== undefined && runsOsScript(parent.name, parent.commandLine);
      if (
        parent &&
        !osScript &&
        parent.name !== child.name &&
        rule.parents.has(parent.name) &&
        rule.childAllowed(child)
      ) {
        pairs.push([parent, child]);
      }
    }
    if (pairs.length === 0) continue;
    const techniques = pairs.flatMap(([parent, child]) => [
      rule.technique(parent),
      lolbins.get(child.name) ?? shells.get(child.name) ?? null,
      rule.id === 'delivery-lineage' ? (lolbins.get(parent.name) ?? null) : null,
    ]);
    const text = pairs.map(([parent, child]) => `${parent.name} → ${child.name}`).join(', ');
    features.push(
      feature(rule.id, rule.weight, `Lineage ${text} (${rule.meaning}).`, pairs.flat(), techniques),
    );
  }
  const binaries = chain.filter(
    (node) => lolbins.has(node.name) && !runsOsScript(node.name, node.commandLine),
  );
  if (binaries.length > 0) {
    const techniques = binaries.map((node) => lolbins.get(node.name) ?? scriptTechnique(node));
    const claim = `Signed-binary proxy execution in the chain: ${unique(binaries.map((node) => node.name)).join(', ')}.`;
    features.push(
      feature('living-off-the-land', featureWeights.livingOffTheLand, claim, binaries, techniques),
    );
  }
  return features;
}

function scriptTechnique(node: ChainProcess): string | null {
  if (node.name !== 'wscript.exe' && node.name !== 'cscript.exe') return null;
  return /\.(?:js|jse)\b|javascript/i.test(node.commandLine) ? 'T1059.007' : 'T1059.005';
}

/** A signed binary running inline, remote or user-dropped code: the point of proxy execution. */
function proxyFeature(chain: readonly ChainProcess[]): Feature | null {
  const proxied = chain.flatMap((node) => {
    const technique = lolbins.get(node.name) ?? scriptTechnique(node);
    const patterns = (proxyExecution.get(node.name) ?? []).filter((pattern) =>
      pattern.pattern.test(node.commandLine),
    );
    const userPayload =
      lolbins.has(node.name) &&
      executablePathsIn(commandArguments(node.commandLine)).some(isUserWritablePath);
    const found = userPayload
      ? [...patterns, { name: `${node.name} running a payload from a user-writable path`, technique }]
      : patterns;
    return found.map((pattern) => ({ node, name: pattern.name, technique: pattern.technique }));
  });
  if (proxied.length === 0) return null;
  const described = unique(proxied.map(({ node }) => describe(node))).slice(0, 2);
  const claim = `${unique(proxied.map(({ name }) => name)).join(', ')}: ${described.join('; ')}.`;
  const nodes = proxied.map(({ node }) => node);
  return feature(
    'proxy-execution',
    featureWeights.proxyExecution,
    claim,
    nodes,
    proxied.map(({ technique }) => technique),
  );
}

function commandFeatures(context: FeatureContext): Feature[] {
  const { chain } = context;
  const features: Array<Feature | null> = [];
  features.push(proxyFeature(chain));
  const encoded = chain.filter(
    (node) => decodedPayloads(node.commandLine).length > 0 || /frombase64string/i.test(node.commandLine),
  );
  if (encoded.length > 0) {
    const techniques = [
      'T1027',
      ...encoded.map((node) => shells.get(node.name) ?? null),
      ...encoded.map((node) => (/frombase64string/i.test(context.expanded.get(node) ?? '') ? 'T1140' : null)),
    ];
    const claim = `Encoded command line (base64 payload decoded for analysis): ${encoded
      .map((node) => describe(node))
      .slice(0, 2)
      .join('; ')}.`;
    features.push(feature('encoded-command', featureWeights.encodedCommand, claim, encoded, techniques));
  }
  const raw = (node: ChainProcess) => [node.commandLine, ...decodedPayloads(node.commandLine)].join('\n');
  const obfuscated = chain
    .map((node) => ({ node, found: matching(obfuscationPatterns, raw(node)) }))
    .filter((hit) => hit.found.length > 0);
  if (obfuscated.length > 0) {
    const claim = `Obfuscation: ${unique(obfuscated.flatMap((hit) => hit.found.map((pattern) => pattern.name))).join(', ')} in ${unique(obfuscated.map((hit) => hit.node.name)).join(', ')}.`;
    features.push(
      feature(
        'obfuscation',
        featureWeights.obfuscation,
        claim,
        obfuscated.map((hit) => hit.node),
        ['T1027'],
      ),
    );
  }
  const powershell = chain.filter((node) => shells.get(node.name) === 'T1059.001');
  const flagged = powershell
    .map((node) => ({ node, found: matching(stealthFlags, ` ${node.commandLine}`) }))
    .filter((hit) => hit.found.length > 0);
  if (flagged.length > 0) {
    const names = unique(flagged.flatMap((hit) => hit.found.map((pattern) => pattern.name)));
    const weight = Math.min(featureWeights.stealthFlagsMax, featureWeights.stealthFlag * names.length);
    const claim = `PowerShell started with stealth options (${names.join(', ')}): ${flagged
      .map((hit) => describe(hit.node))
      .slice(0, 2)
      .join('; ')}.`;
    features.push(
      feature(
        'stealth-flags',
        weight,
        claim,
        flagged.map((hit) => hit.node),
        flagged.flatMap((hit) => hit.found.map((pattern) => pattern.technique)),
      ),
    );
  }
  const cradle = patternFeature(
    context,
    'download-cradle',
    featureWeights.downloadCradle,
    downloadCradles,
    'Download cradle',
  );
  if (
    cradle &&
    context.chain.some((node) => stringExecution.pattern.test(context.expanded.get(node) ?? ''))
  ) {
    cradle.claim = cradle.claim.replace('Download cradle:', `Download cradle with ${stringExecution.name}:`);
    cradle.techniques = unique([...cradle.techniques, 'T1059.001']);
  }
  features.push(cradle);
  features.push(
    patternFeature(
      context,
      'defense-tampering',
      featureWeights.defenseTampering,
      tamperingPatterns,
      'Security controls tampered with',
    ),
  );
  return features.filter((candidate): candidate is Feature => candidate !== null);
}

/** Every feature that fired, positive and negative, each with the refs it rests on. */
export function scoreFeatures(alert: AlertFacts, observations: Observations): Feature[] {
  const chain = orderedChain(observations.processes);
  const expanded = new Map(chain.map((node) => [node, expandCommandLine(node.commandLine)]));
  const context: FeatureContext = { alert, observations, chain, expanded };
  const positive = [
    ...lineageFeatures(context),
    ...commandFeatures(context),
    ...behaviourFeatures(context),
    ...networkFeatures(context),
  ];
  const scored = [...positive, ...benignFeatures(context, positive)];
  return [...scored, ...checklistFeatures(observations.checklist, scored)];
}
