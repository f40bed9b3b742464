import { keyOf } from './chain.js';
import { matching, type Pattern } from './detectors.js';
import { commandArguments } from './lexicon.js';
import { quoteCommand } from './redact.js';
import type { ChainProcess, Feature, FeatureContext } from './types.js';

/** Additive weights: positive = evidence of malice, negative = evidence of legitimate use. */
export const featureWeights = {
  deliveryLineage: 3,
  serverSpawnedShell: 4,
  elevationLineage: 3,
  serviceSpawnedShell: 3,
  remoteExecutionLineage: 1.5,
  livingOffTheLand: 0.5,
  proxyExecution: 2,
  encodedCommand: 2,
  obfuscation: 1,
  stealthFlag: 0.5,
  stealthFlagsMax: 1.5,
  downloadCradle: 2,
  userWritableExecution: 2,
  /** Added when a shell or proxy binary started the user-writable program: a dropped tool run from a console. */
  droppedToolLaunch: 1,
  defenseTampering: 3,
  discoveryFew: 1,
  discoveryBurst: 2,
  persistence: 2,
  /** Added when the autostart entry runs a shell, script host, proxy binary or a user-writable file. */
  persistencePayload: 1,
  credentialAccess: 3,
  /** A thread started inside another process by a program that is not one of Windows' own session managers. */
  processInjection: 3,
  /** A desktop accessory (Notepad, Calculator) hosting PowerShell, talking to the network or starting programs. */
  hostedCode: 3,
  externalConnection: 2,
  lolbinNetwork: 1,
  intelHit: 4,
} as const;

export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

export function feature(
  id: string,
  weight: number,
  claim: string,
  nodes: readonly ChainProcess[],
  techniques: ReadonlyArray<string | null>,
  extraRefs: readonly string[] = [],
): Feature {
  return {
    id,
    weight,
    claim,
    refs: unique([...nodes.flatMap((node) => node.refs), ...extraRefs]),
    techniques: unique(techniques.filter((technique): technique is string => technique !== null)),
    processKeys: unique(nodes.map(keyOf)),
  };
}

export function describe(node: ChainProcess): string {
  const args = commandArguments(node.commandLine);
  return args ? `${node.name} ${quoteCommand(args)}` : node.name || 'unknown process';
}

/** One feature per pattern table: fires once, citing every process that matched. */
export function patternFeature(
  context: FeatureContext,
  id: string,
  weight: number,
  patterns: readonly Pattern[],
  lead: string,
): Feature | null {
  const hits = context.chain.map((node) => ({
    node,
    found: matching(patterns, context.expanded.get(node) ?? ''),
  }));
  const matched = hits.filter((hit) => hit.found.length > 0);
  if (matched.length === 0) return null;
  const names = unique(matched.flatMap((hit) => hit.found.map((pattern) => pattern.name)));
  const claim = `${lead}: ${names.join(', ')} in ${matched
    .map((hit) => describe(hit.node))
    .slice(0, 2)
    .join('; ')}.`;
  const techniques = matched.flatMap((hit) => hit.found.map((pattern) => pattern.technique));
  return feature(
    id,
    weight,
    claim,
    matched.map((hit) => hit.node),
    techniques,
  );
}
