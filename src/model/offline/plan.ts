import { isOfInterest, orderedChain, sightings } from './chain.js';
import { imageName, systemProcesses } from './lexicon.js';
import { processKey } from './results.js';
import { chooseSkills, runbookCalls } from './skills.js';
import { purposeOf, type Transcript } from './transcript.js';
import type { AlertFacts, ChainProcess, Observations, SkillEntry } from './types.js';

/** Bounds of one investigation: a model that keeps calling tools forever is a bug. */
export const investigationLimits = {
  /** Assistant turns, the verdict submission included (a validation resubmission may add one). */
  maxTurns: 8,
  /** Tool calls, the verdict submission included. */
  maxToolCalls: 40,
  maxIntelLookups: 8,
  /** Processes whose network and DNS activity is checked one by one. */
  maxDeepChecks: 3,
  maxChildSearches: 3,
  /** SIEM look-ups of a process start to learn a parent the EDR tree does not reach. */
  maxLineageExtensions: 2,
} as const;

const windowBefore = 15 * 60_000;
const wideWindowBefore = 24 * 3_600_000;
const windowAfter = 30 * 60_000;
const eventLimit = 50;

export interface PlannedCall {
  name: string;
  input: Record<string, unknown>;
  /** One line for the assistant's text: what the call is for. */
  why: string;
}

export interface PlanContext {
  alert: AlertFacts;
  skillIndex: readonly SkillEntry[];
  tools: ReadonlySet<string>;
  observations: Observations;
  transcript: Transcript;
}

export interface Plan {
  calls: PlannedCall[];
  /** Questions left unasked because the turn or call budget ran out. */
  skipped: number;
}

function timeWindow(alert: AlertFacts, before = windowBefore): { from?: string; to?: string } {
  const at = alert.time ? Date.parse(alert.time) : Number.NaN;
  if (Number.isNaN(at)) return {};
  return { from: new Date(at - before).toISOString(), to: new Date(at + windowAfter).toISOString() };
}

function label(node: ChainProcess): string {
  return node.name || 'the alerted process';
}

/** The top of the known lineage, when its parent is still unknown: its own start event names it. */
function extensionCalls(context: PlanContext, treePending: boolean): PlannedCall[] {
  const { tools, observations } = context;
  if (treePending || !tools.has('siem.search_events')) return [];
  const done = [...observations.attempted].filter((purpose) => purpose.startsWith('process-start:')).length;
  if (done >= investigationLimits.maxLineageExtensions) return [];
  const line = observations.processes.filter((node) => node.relation !== 'descendant');
  const top = line.reduce<ChainProcess | undefined>(
    (best, node) => (!best || node.depth < best.depth ? node : best),
    undefined,
  );
  // A system process (Explorer, services, svchost) at the top is where lineages normally begin.
  if (!top?.guid || systemProcesses.has(top.name)) return [];
  const parentKnown =
    top.parentGuid !== null && line.some((node) => processKey(node.guid) === processKey(top.parentGuid));
  if (parentKnown) return [];
  const input = { processGuid: top.guid, action: 'process_start', limit: 5, offset: 0 };
  return [
    {
      name: 'siem.search_events',
      input,
      why: `the parent of ${label(top)}`,
    },
  ];
}

function lineageCalls(context: PlanContext, focal: ChainProcess | undefined): PlannedCall[] {
  const { alert, tools, observations } = context;
  if (!focal) return [];
  const treeTried = observations.attempted.has(`tree:${focal.guid?.toLowerCase()}`);
  const treeUnavailable = !tools.has('edr.process_tree') || treeTried || observations.lineage === 'edr';
  const extensions = extensionCalls(context, focal.guid !== null && !treeUnavailable);
  if (observations.lineage === 'edr') return extensions;
  const calls: PlannedCall[] = [...extensions];
  if (focal.guid && tools.has('edr.process_tree')) {
    calls.push({
      name: 'edr.process_tree',
      input: { processGuid: focal.guid },
      why: `process tree of ${label(focal)}`,
    });
  }
  if (!focal.guid && tools.has('siem.search_events') && alert.host && (focal.image || focal.commandLine)) {
    const filter = focal.image
      ? { process: imageName(focal.image) }
      : { commandLine: focal.commandLine.slice(0, 100) };
    const base = { host: alert.host, ...filter, action: 'process_start', limit: eventLimit, offset: 0 };
    const why = `find the start of ${label(focal)} in the SIEM`;
    calls.push({
      name: 'siem.search_events',
      input: { ...base, ...timeWindow(alert) },
      why,
    });
    if (observations.attempted.has('find-process')) {
      // Not around the alert: the process may have started hours earlier (a long-lived session).
      const input = { ...base, ...timeWindow(alert, wideWindowBefore) };
      calls.push({
        name: 'siem.search_events',
        input,
        why: `${why}, over the preceding day`,
      });
    }
  }
  const searched =
    observations.attempted.has('find-process-wide') ||
    !tools.has('siem.search_events') ||
    // Known by PID alone: nothing to search the SIEM with, the EDR resolves the PID on the host.
    (!focal.image && !focal.commandLine);
  if (!focal.guid && searched && tools.has('edr.process_tree') && alert.host && focal.pid !== null) {
    calls.push({
      name: 'edr.process_tree',
      input: { host: alert.host, pid: focal.pid },
      why: `process tree of pid ${focal.pid}`,
    });
  }
  if (focal.guid && treeUnavailable && tools.has('siem.search_events')) {
    const parents = orderedChain(observations.processes).filter(
      (node) =>
        node.guid && node.relation !== 'ancestor' && node.depth < 3 && (node === focal || isOfInterest(node)),
    );
    for (const parent of parents.slice(0, investigationLimits.maxChildSearches)) {
      const input = { parentProcessGuid: parent.guid, action: 'process_start', limit: eventLimit, offset: 0 };
      calls.push({
        name: 'siem.search_events',
        input,
        why: `processes started by ${label(parent)}`,
      });
    }
  }
  return calls;
}

function activityCalls(context: PlanContext): PlannedCall[] {
  const { alert, tools, observations } = context;
  const interesting = orderedChain(observations.processes).filter((node) => node.guid && isOfInterest(node));
  const calls: PlannedCall[] = [];
  const edrConnectionsFailed = observations.failures.some(
    (failure) => failure.tool === 'edr.network_connections',
  );
  const checked = new Set(
    [...observations.attempted]
      .filter((purpose) => purpose.startsWith('connections:') || purpose.startsWith('events:dns_query:'))
      .map((purpose) => purpose.slice(purpose.lastIndexOf(':') + 1)),
  );
  let fresh = investigationLimits.maxDeepChecks - checked.size;
  for (const node of interesting) {
    const guid = node.guid as string;
    const key = guid.toLowerCase();
    if (!checked.has(key)) {
      if (fresh <= 0) continue;
      fresh -= 1;
    }
    if (tools.has('edr.network_connections')) {
      const input = { processGuid: guid, limit: eventLimit };
      calls.push({
        name: 'edr.network_connections',
        input,
        why: `network connections of ${label(node)}`,
      });
    }
    if (tools.has('siem.search_events')) {
      if (!tools.has('edr.network_connections') || edrConnectionsFailed) {
        const input = { processGuid: guid, action: 'network_connection', limit: eventLimit, offset: 0 };
        calls.push({
          name: 'siem.search_events',
          input,
          why: `network events of ${label(node)}`,
        });
      }
      const input = { processGuid: guid, action: 'dns_query', limit: eventLimit, offset: 0 };
      calls.push({
        name: 'siem.search_events',
        input,
        why: `DNS queries of ${label(node)}`,
      });
    }
  }
  if (interesting.length > 0 && alert.host && tools.has('siem.search_events')) {
    for (const action of ['registry_set', 'process_access'] as const) {
      const input = { host: alert.host, action, ...timeWindow(alert), limit: 100, offset: 0 };
      const why =
        action === 'registry_set'
          ? 'registry writes on the host around the alert'
          : 'process-access events (LSASS) around the alert';
      calls.push({ name: 'siem.search_events', input, why });
    }
  }
  return calls;
}

function intelCalls(context: PlanContext): PlannedCall[] {
  const { alert, tools, observations } = context;
  if (!tools.has('intel.lookup_indicator')) return [];
  const done = [...observations.attempted].filter((purpose) => purpose.startsWith('intel:')).length;
  const fresh = sightings(alert, observations).filter(
    ({ indicator }) => !observations.attempted.has(`intel:${indicator.value.toLowerCase()}`),
  );
  return fresh.slice(0, Math.max(0, investigationLimits.maxIntelLookups - done)).map(({ indicator }) => ({
    name: 'intel.lookup_indicator',
    input: { value: indicator.value, type: indicator.type },
    why: `reputation of ${indicator.type} ${indicator.value}`,
  }));
}

/**
 * The next questions worth asking, given everything already answered: each purpose is asked
 * once, only of tools this run lists, within the turn and call budget. Empty means: conclude.
 */
export function planNextCalls(context: PlanContext): Plan {
  const { alert, skillIndex, tools, observations, transcript } = context;
  const focal = observations.processes.find((node) => node.relation === 'focal');
  const candidates: PlannedCall[] = [];
  if (tools.has('load_skill')) {
    for (const skill of chooseSkills(skillIndex, alert)) {
      candidates.push({
        name: 'load_skill',
        input: { name: skill.name },
        why: `runbook ${skill.name}`,
      });
    }
  }
  candidates.push(...lineageCalls(context, focal));
  if (alert.host && tools.has('edr.host_summary')) {
    candidates.push({
      name: 'edr.host_summary',
      input: { host: alert.host },
      why: `context of host ${alert.host}`,
    });
  }
  candidates.push(
    ...activityCalls(context),
    ...intelCalls(context),
    ...runbookCalls(alert, transcript, tools),
  );

  const seen = new Set(observations.attempted);
  const fresh = candidates.filter((call) => {
    const purpose = purposeOf(call.name, call.input);
    if (seen.has(purpose) || !tools.has(call.name)) return false;
    seen.add(purpose);
    return true;
  });
  const turnsLeft = investigationLimits.maxTurns - 1 - transcript.assistantTurns;
  const callsLeft = turnsLeft > 0 ? investigationLimits.maxToolCalls - 1 - transcript.callCount : 0;
  const calls = fresh.slice(0, Math.max(0, callsLeft));
  return { calls, skipped: fresh.length - calls.length };
}
