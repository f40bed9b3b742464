import { expandCommandLine, extractIndicators, hostIndicator, type Indicator } from './indicators.js';
import {
  contentHandlers,
  isUserWritablePath,
  lolbins,
  runsOsScript,
  shells,
  systemProcesses,
} from './lexicon.js';
import { processKey } from './results.js';
import type { AlertFacts, ChainProcess, Observations } from './types.js';

/** Nearest to the focal process first; at equal distance, what it started before what started it. */
export function orderedChain(processes: readonly ChainProcess[]): ChainProcess[] {
  return [...processes].sort(
    (left, right) => Math.abs(left.depth) - Math.abs(right.depth) || right.depth - left.depth,
  );
}

/** Key used to attribute evidence to a process: its guid, else its image name. */
export function keyOf(node: ChainProcess): string {
  return processKey(node.guid) ?? `image:${node.name || 'unknown'}`;
}

/** Processes worth a closer look: shells, LOLBins, anything from a user-writable path or fetching a URL. */
export function isOfInterest(node: ChainProcess): boolean {
  if (systemProcesses.has(node.name) || runsOsScript(node.name, node.commandLine)) return false;
  return (
    lolbins.has(node.name) ||
    shells.has(node.name) ||
    contentHandlers.has(node.name) ||
    isUserWritablePath(node.image) ||
    /\bhttps?:\/\//i.test(node.commandLine)
  );
}

/** The parent of a chain process: by guid when known, else the next ancestor up the line. */
export function parentOf(chain: readonly ChainProcess[], node: ChainProcess): ChainProcess | undefined {
  const key = processKey(node.parentGuid);
  const byGuid = key ? chain.find((candidate) => processKey(candidate.guid) === key) : undefined;
  if (byGuid || node.relation === 'descendant') return byGuid;
  return chain.find((candidate) => candidate.relation === 'ancestor' && candidate.depth === node.depth - 1);
}

/** The chain process an event or connection belongs to, by guid, else null. */
export function chainProcessOf(observations: Observations, guid: string | null): ChainProcess | undefined {
  const key = processKey(guid);
  return key ? observations.processes.find((node) => processKey(node.guid) === key) : undefined;
}

/** Where an indicator was seen: the process it belongs to and the refs that show it. */
export interface Sighting {
  indicator: Indicator;
  processKey: string | null;
  origin: 'command line' | 'decoded command' | 'connection' | 'dns query' | 'alert';
  refs: string[];
}

function addSighting(list: Sighting[], sighting: Sighting): void {
  const known = list.find((candidate) => candidate.indicator.value === sighting.indicator.value);
  if (!known) {
    list.push(sighting);
    return;
  }
  for (const ref of sighting.refs) if (!known.refs.includes(ref)) known.refs.push(ref);
}

/** Indicators worth a reputation check, most relevant first, each with where it was seen. */
export function sightings(alert: AlertFacts, observations: Observations): Sighting[] {
  const found: Sighting[] = [];
  for (const value of [alert.destination, alert.queryName]) {
    const indicator = value ? hostIndicator(value) : null;
    if (indicator) addSighting(found, { indicator, processKey: null, origin: 'alert', refs: [alert.ref] });
  }
  const chain = orderedChain(observations.processes);
  for (const node of chain) {
    const plain = new Set(extractIndicators(node.commandLine).map((indicator) => indicator.value));
    for (const indicator of extractIndicators(expandCommandLine(node.commandLine))) {
      const origin = plain.has(indicator.value) ? 'command line' : 'decoded command';
      addSighting(found, { indicator, processKey: keyOf(node), origin, refs: [...node.refs] });
    }
  }
  for (const connection of observations.connections) {
    const node = chainProcessOf(observations, connection.processGuid);
    if (!node || !isOfInterest(node)) continue;
    for (const value of [connection.destinationIp, connection.destinationHostname]) {
      const indicator = value ? hostIndicator(value) : null;
      if (indicator)
        addSighting(found, {
          indicator,
          processKey: keyOf(node),
          origin: 'connection',
          refs: [connection.ref],
        });
    }
  }
  for (const event of observations.events) {
    const node = event.action === 'dns_query' ? chainProcessOf(observations, event.processGuid) : undefined;
    const indicator = node ? hostIndicator(event.subject) : null;
    if (node && indicator)
      addSighting(found, { indicator, processKey: keyOf(node), origin: 'dns query', refs: [event.ref] });
  }
  return found;
}
