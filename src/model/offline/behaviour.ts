import { chainProcessOf, keyOf, parentOf } from './chain.js';
import { autostartPayload, credentialPatterns, matching, persistencePatterns } from './detectors.js';
import {
  administrativeTools,
  commandArguments,
  discoveryCommands,
  executablePathsIn,
  imageName,
  isSystemDirectoryPath,
  isUserWritablePath,
  lolbins,
  lsassAccessors,
  shells,
  systemProcesses,
} from './lexicon.js';
import { quoteCommand } from './redact.js';
import { feature, featureWeights, patternFeature, unique } from './signals.js';
import type { ChainProcess, Feature, FeatureContext } from './types.js';

/** Binaries run from user-writable places, and payloads handed to shells or LOLBins from there. */
function userPathFeature({ chain }: FeatureContext): Feature | null {
  const launchesShell = (node: ChainProcess) =>
    chain.some(
      (child) =>
        parentOf(chain, child) === node &&
        (shells.has(child.name) || lolbins.has(child.name) || administrativeTools.has(child.name)),
    );
  const hits = chain
    .filter((node) => !systemProcesses.has(node.name))
    .map((node) => {
      const imageCounts = node.relation !== 'ancestor' || launchesShell(node);
      const payloads =
        lolbins.has(node.name) || shells.has(node.name)
          ? executablePathsIn(commandArguments(node.commandLine))
          : [];
      return {
        node,
        paths: [...(imageCounts ? [node.image] : []), ...payloads].filter(
          (path) => path && isUserWritablePath(path),
        ),
      };
    })
    .filter((hit) => hit.paths.length > 0);
  if (hits.length === 0) return null;
  // A program dropped in a user-writable folder and started from a console or proxy binary: a tool the operator brought.
  const launched = hits.filter(({ node }) => {
    if (node.relation === 'ancestor' || !isUserWritablePath(node.image)) return false;
    const parent = parentOf(chain, node);
    return parent !== undefined && (shells.has(parent.name) || lolbins.has(parent.name));
  });
  const claim = `Code run from a user-writable location: ${unique(hits.flatMap((hit) => hit.paths))
    .slice(0, 3)
    .map((path) => quoteCommand(path, 100))
    .join(
      ', ',
    )}${launched[0] ? `; ${launched[0].node.name} was started from ${parentOf(chain, launched[0].node)?.name}` : ''}.`;
  return feature(
    'user-writable-execution',
    featureWeights.userWritableExecution + (launched.length > 0 ? featureWeights.droppedToolLaunch : 0),
    claim,
    hits.map((hit) => hit.node),
    [],
  );
}

export function behaviourFeatures(context: FeatureContext): Feature[] {
  const { alert, observations, chain } = context;
  const features: Array<Feature | null> = [userPathFeature(context)];
  const actors = chain.filter((node) => node.relation !== 'ancestor');
  const discovered = actors.flatMap((node) =>
    discoveryCommands
      .filter((command) => command.pattern.test(`${node.name} ${node.commandLine}`))
      .map((command) => ({ node, command })),
  );
  const discoveryNames = unique(discovered.map(({ command }) => command.name));
  if (discoveryNames.length > 0) {
    const weight = discoveryNames.length >= 3 ? featureWeights.discoveryBurst : featureWeights.discoveryFew;
    const claim = `Discovery commands in the alerted process or its descendants: ${discoveryNames.join(', ')}.`;
    features.push(
      feature(
        'discovery',
        weight,
        claim,
        discovered.map(({ node }) => node),
        discovered.map(({ command }) => command.technique),
      ),
    );
  }
  const persistence = patternFeature(
    context,
    'persistence',
    featureWeights.persistence,
    persistencePatterns,
    'Persistence',
  );
  const autostartWrites = observations.events.filter(
    (event) =>
      event.action !== 'dns_query' &&
      event.action !== 'process_access' &&
      chainProcessOf(observations, event.processGuid) &&
      matching(persistencePatterns, event.subject).length > 0,
  );
  const alertWrite = alert.targetObject && matching(persistencePatterns, alert.targetObject).length > 0;
  if (persistence || autostartWrites.length > 0 || alertWrite) {
    const writers = autostartWrites
      .map((event) => chainProcessOf(observations, event.processGuid))
      .filter((node): node is ChainProcess => node !== undefined);
    const keys = unique([
      ...autostartWrites.map((event) => event.subject),
      ...(alertWrite && alert.targetObject ? [alert.targetObject] : []),
    ]);
    const keyText =
      keys.length > 0
        ? ` Autostart location written: ${keys
            .slice(0, 2)
            .map((key) => quoteCommand(key, 100))
            .join(', ')}.`
        : '';
    const base = persistence ?? feature('persistence', featureWeights.persistence, 'Persistence.', [], []);
    const techniques = [
      ...base.techniques,
      ...keys.flatMap((key) => matching(persistencePatterns, key).map((pattern) => pattern.technique)),
    ];
    const refs = [...autostartWrites.map((event) => event.ref), ...(alertWrite ? [alert.ref] : [])];
    // What the entry runs: the value written (registry) or the command that created it (schtasks, sc, reg add).
    const payloads = [
      ...autostartWrites.map((event) => event.detail ?? ''),
      ...(alertWrite ? [alert.details ?? ''] : []),
      ...(persistence
        ? context.chain
            .filter((node) => persistence.processKeys.includes(keyOf(node)))
            .map((node) => commandArguments(node.commandLine))
        : []),
    ].filter((text) => text !== '');
    const payload = payloads.find(
      (text) =>
        autostartPayload.test(text) ||
        isUserWritablePath(text) ||
        executablePathsIn(text).some(isUserWritablePath),
    );
    const payloadText = payload
      ? ` The entry runs ${quoteCommand(payload, 120)}: a shell, script or user-writable file.`
      : '';
    features.push(
      feature(
        'persistence',
        featureWeights.persistence + (payload ? featureWeights.persistencePayload : 0),
        `${base.claim}${keyText}${payloadText}`.trim(),
        writers,
        techniques,
        [...base.refs, ...refs],
      ),
    );
  }
  const credential = patternFeature(
    context,
    'credential-access',
    featureWeights.credentialAccess,
    credentialPatterns,
    'Credential theft tooling',
  );
  const routine = (image: string | null) =>
    image !== null &&
    lsassAccessors.has(imageName(image)) &&
    (isSystemDirectoryPath(image) || !/[\\/]/.test(image));
  const lsassReads = observations.events.filter(
    (event) =>
      event.action === 'process_access' &&
      !routine(event.image) &&
      /\blsass\.exe\b/i.test(event.subject) &&
      chainProcessOf(observations, event.processGuid),
  );
  // Session, service and security managers of Windows open LSASS all day; from their own folder that is not theft.
  const routineReader = routine(alert.image);
  const alertRead =
    alert.targetImage !== null &&
    /\blsass\.exe\b/i.test(alert.targetImage) &&
    alert.image !== null &&
    !routineReader;
  if (credential || lsassReads.length > 0 || alertRead) {
    const readers = lsassReads
      .map((event) => chainProcessOf(observations, event.processGuid))
      .filter((node): node is ChainProcess => node !== undefined);
    const claim =
      `${credential ? `${credential.claim} ` : ''}${lsassReads.length > 0 || alertRead ? `LSASS memory opened by ${unique([...readers.map((node) => node.name), ...(alertRead ? [chain.find((node) => node.relation === 'focal')?.name ?? 'the alerted process'] : [])]).join(', ')}.` : ''}`.trim();
    const refs = [
      ...(credential?.refs ?? []),
      ...lsassReads.map((event) => event.ref),
      ...(alertRead ? [alert.ref] : []),
    ];
    features.push(
      feature(
        'credential-access',
        featureWeights.credentialAccess,
        claim,
        readers,
        ['T1003.001', ...(credential?.techniques ?? [])],
        refs,
      ),
    );
  }
  return features.filter((candidate): candidate is Feature => candidate !== null);
}
