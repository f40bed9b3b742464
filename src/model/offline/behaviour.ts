import { chainProcessOf, keyOf, parentOf } from './chain.js';
import { autostartPayload, credentialPatterns, matching, persistencePatterns } from './detectors.js';
import {
  administrativeTools,
  commandArguments,
  discoveryCommands,
  executablePathsIn,
  imageName,
  inertPrograms,
  isSystemDirectoryPath,
  isUserWritablePath,
  lolbins,
  lsassAccessors,
  routineThreadInjectors,
  shells,
  systemProcesses,
} from './lexicon.js';
import { quoteCommand } from './redact.js';
import { processKey } from './results.js';
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

/** Techniques of persistence patterns that hijack a handler Windows runs elevated or instead of a program. */
const elevatedHandlerHijacks = new Set(['T1548.002', 'T1546.012']);

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
    // A handler Windows itself runs elevated or in place of another program (an auto-elevating
    // binary's shell-open command, an Image File Execution Options debugger) is hijacked, whatever it runs.
    const hijack = keys.some((key) =>
      matching(persistencePatterns, key).some((pattern) =>
        elevatedHandlerHijacks.has(pattern.technique ?? ''),
      ),
    );
    features.push(
      feature(
        'persistence',
        featureWeights.persistence + (payload || hijack ? featureWeights.persistencePayload : 0),
        `${base.claim}${keyText}${payloadText}${hijack && !payload ? ' The key is a handler Windows runs elevated or in place of a program: a hijack.' : ''}`.trim(),
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
  features.push(injectionFeature(context), hostedCodeFeature(context));
  return features.filter((candidate): candidate is Feature => candidate !== null);
}

/**
 * The alerted event is a thread created in another process (Sysmon 8, CreateRemoteThread) by a
 * program other than Windows' own session and defence components, from their own folder: code
 * injection (T1055), whatever the target.
 */
function injectionFeature({ alert, chain }: FeatureContext): Feature | null {
  if (alert.eventId !== 8 || alert.image === null || alert.targetImage === null) return null;
  const routine =
    routineThreadInjectors.has(imageName(alert.image)) &&
    (isSystemDirectoryPath(alert.image) || !/[\\/]/.test(alert.image));
  if (routine || imageName(alert.image) === imageName(alert.targetImage)) return null;
  const focal = chain.find((node) => node.relation === 'focal');
  return feature(
    'process-injection',
    featureWeights.processInjection,
    `${focal?.name ?? imageName(alert.image)} started a thread inside ${imageName(alert.targetImage)}: code injection into another process.`,
    focal ? [focal] : [],
    ['T1055'],
    [alert.ref],
  );
}

/**
 * A desktop accessory doing what only hosted code does: the alerted event is its network
 * connection, its load of the PowerShell engine, its PowerShell host pipe or policy-test script, or
 * its start of another program (the alerted process's parent is the accessory); or the EDR saw it
 * connect anywhere or start a child.
 */
function hostedCodeFeature({ alert, chain, observations }: FeatureContext): Feature | null {
  const focal = chain.find((node) => node.relation === 'focal');
  const name = imageName(alert.image ?? focal?.image ?? '');
  const doings: string[] = [];
  let host: ChainProcess | undefined;
  if (inertPrograms.has(name)) {
    host = focal;
    if (alert.destination !== null) doings.push(`connected to ${alert.destination}`);
    // The PowerShell engine and its own assemblies (modules such as Microsoft.WSMan.Management).
    if (
      /\\(?:system\.management\.automation|microsoft\.powershell\.[\w.]+|microsoft\.wsman\.management)(?:\.ni)?\.dll$/i.test(
        alert.imageLoaded ?? '',
      )
    )
      doings.push('loaded the PowerShell engine');
    if (/\\(?:wsmsvc|wsmauto|wsmplugin|pwrshplugin)\.dll$/i.test(alert.imageLoaded ?? ''))
      doings.push('loaded the WS-Management (PowerShell remoting) provider');
    if (alert.eventId === 4103 || alert.eventId === 4104 || alert.eventId === 800)
      doings.push('ran PowerShell commands');
    if (/^\\?pshost\./i.test(alert.pipeName ?? '')) doings.push('opened a PowerShell host pipe');
    if (/__psscriptpolicytest_/i.test(alert.targetObject ?? ''))
      doings.push('wrote a PowerShell policy-test script');
    const own = processKey(focal?.guid);
    if (own && observations.connections.some((connection) => processKey(connection.processGuid) === own))
      doings.push('made network connections');
    if (focal && chain.some((node) => node.relation === 'descendant' && parentOf(chain, node) === focal))
      doings.push('started other programs');
  }
  const parentName = imageName(alert.parentImage ?? '');
  if (inertPrograms.has(parentName)) {
    host = chain.find((node) => node.relation === 'ancestor' && node.name === parentName) ?? host;
    doings.push(`started ${name || 'a program'}`);
  }
  if (doings.length === 0) return null;
  const who = inertPrograms.has(name) ? name : parentName;
  return feature(
    'hosted-code',
    featureWeights.hostedCode,
    `${who}, a desktop accessory, ${unique(doings).join(', ')}: code injected into it or run under its name.`,
    host ? [host] : [],
    ['T1055'],
    [alert.ref],
  );
}
