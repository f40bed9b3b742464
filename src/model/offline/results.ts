import type { ToolResultBlock } from '../provider.js';
import { checklistFindings } from './checklist-findings.js';
import { imageName } from './lexicon.js';
import {
  connections,
  eventPage,
  hostSummary,
  indicatorVerdict,
  type LabEventValue,
  loadedSkill,
  processTree,
  toolError,
} from './schemas.js';
import { purposeOf, type Transcript } from './transcript.js';
import type { AlertFacts, ChainProcess, Observations, Relation } from './types.js';

/** Canonical process key: guids compare case-insensitively and without braces. */
export function processKey(guid: string | null | undefined): string | null {
  return guid ? guid.replace(/[{}]/g, '').toLowerCase() : null;
}

interface NodeInput {
  guid?: string | null;
  pid?: number | null;
  parentGuid?: string | null;
  image?: string | null;
  commandLine?: string | null;
  startTime?: string | null;
}

function findNode(
  list: ChainProcess[],
  key: string | null,
  relation: Relation,
  depth: number,
): ChainProcess | undefined {
  const byGuid = key ? list.find((node) => processKey(node.guid) === key) : undefined;
  if (byGuid) return byGuid;
  if (relation === 'focal') return list.find((node) => node.relation === 'focal');
  if (relation === 'ancestor') {
    return list.find((node) => node.relation === 'ancestor' && node.depth === depth && (!node.guid || !key));
  }
  return undefined;
}

function upsert(
  list: ChainProcess[],
  input: NodeInput,
  relation: Relation,
  depth: number,
  ref: string,
): ChainProcess {
  const existing = findNode(list, processKey(input.guid), relation, depth);
  const node: ChainProcess = existing ?? {
    guid: null,
    pid: null,
    parentGuid: null,
    image: '',
    name: '',
    commandLine: '',
    startTime: null,
    relation,
    depth,
    refs: [],
  };
  node.guid ??= input.guid || null;
  node.pid ??= input.pid ?? null;
  node.parentGuid ??= input.parentGuid || null;
  if (!node.image && input.image) node.image = input.image;
  if (!node.commandLine && input.commandLine) node.commandLine = input.commandLine;
  node.startTime ??= input.startTime ?? null;
  node.name = imageName(node.image);
  if (!node.refs.includes(ref)) node.refs.push(ref);
  if (!existing) list.push(node);
  return node;
}

function fromAlert(alert: AlertFacts): ChainProcess[] {
  const list: ChainProcess[] = [];
  // A PowerShell pipeline or script-block event may name its process by PID alone (ExecutionProcessID).
  if (alert.image || alert.commandLine || alert.processGuid || alert.processId !== null) {
    const input = {
      guid: alert.processGuid,
      pid: alert.processId,
      image: alert.image,
      commandLine: alert.commandLine,
    };
    upsert(list, { ...input, parentGuid: alert.parentProcessGuid }, 'focal', 0, alert.ref);
  }
  if (alert.parentImage || alert.parentCommandLine) {
    const parent = {
      guid: alert.parentProcessGuid,
      image: alert.parentImage,
      commandLine: alert.parentCommandLine,
    };
    upsert(list, parent, 'ancestor', -1, alert.ref);
  }
  return list;
}

function normalise(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The process-start event that is the alerted process, matched by guid, pid, command line, then image. */
function matchFocalEvent(alert: AlertFacts, events: LabEventValue[]): LabEventValue | undefined {
  const starts = events.filter((event) => event.process);
  const alertKey = processKey(alert.processGuid);
  const byGuid = starts.find((event) => alertKey && processKey(event.process?.guid) === alertKey);
  const byPid = starts.find((event) => alert.processId !== null && event.process?.pid === alert.processId);
  const byCommand = starts.find(
    (event) => alert.commandLine && normalise(event.process?.commandLine) === normalise(alert.commandLine),
  );
  const byImage = starts.find(
    (event) => alert.image && imageName(event.process?.image) === imageName(alert.image),
  );
  return byGuid ?? byPid ?? byCommand ?? byImage;
}

function accessTarget(event: LabEventValue): string {
  const raw = event.raw ?? {};
  const target = raw.TargetImage ?? raw['process.target.executable'];
  return typeof target === 'string' ? target : (event.message ?? '');
}

function recordEvents(observations: Observations, events: LabEventValue[], ref: string): void {
  for (const event of events) {
    const processGuid = event.process?.guid ?? null;
    const image = event.process?.image ?? null;
    if (event.network) {
      observations.connections.push({
        processGuid,
        image,
        ...event.network,
        destinationPort: event.network.destinationPort ?? null,
        destinationHostname: event.network.destinationHostname ?? null,
        ref,
      });
    }
    const subject =
      event.dns?.query ??
      event.registry?.key ??
      event.file?.path ??
      (event.action === 'process_access' ? accessTarget(event) : null);
    if (subject) {
      const detail = event.registry?.value ?? event.dns?.answers?.join(', ') ?? null;
      observations.events.push({ action: event.action, processGuid, image, subject, detail, ref });
    }
  }
}

function recordResult(
  observations: Observations,
  alert: AlertFacts,
  purpose: string,
  input: Record<string, unknown>,
  result: ToolResultBlock,
): boolean {
  const { name, value, ref } = result;
  const list = observations.processes;
  if (name === 'edr.process_tree') {
    const tree = processTree.safeParse(value);
    if (!tree.success) return false;
    upsert(list, tree.data.process, 'focal', 0, ref);
    for (const [index, node] of tree.data.ancestors.entries())
      upsert(list, node, 'ancestor', -(index + 1), ref);
    for (const node of tree.data.descendants) upsert(list, node, 'descendant', node.depth, ref);
    observations.lineage = 'edr';
    return true;
  }
  if (name === 'siem.search_events') {
    const page = eventPage.safeParse(value);
    if (!page.success) return false;
    if (purpose === 'find-process' || purpose === 'find-process-wide') {
      const focal = matchFocalEvent(alert, page.data.events);
      if (focal?.process) {
        upsert(
          list,
          { ...focal.process, parentGuid: focal.parent?.guid, startTime: focal.timestamp },
          'focal',
          0,
          ref,
        );
        if (focal.parent) upsert(list, focal.parent, 'ancestor', -1, ref);
        if (observations.lineage === 'alert') observations.lineage = 'siem';
      }
    } else if (purpose.startsWith('process-start:')) {
      const key = processKey(purpose.slice('process-start:'.length));
      const node = list.find((candidate) => processKey(candidate.guid) === key);
      const start = page.data.events.find((event) => processKey(event.process?.guid) === key);
      if (node && start?.process) {
        upsert(
          list,
          { ...start.process, parentGuid: start.parent?.guid, startTime: start.timestamp },
          node.relation,
          node.depth,
          ref,
        );
        if (start.parent && node.relation !== 'descendant')
          upsert(list, start.parent, 'ancestor', Math.min(node.depth, 0) - 1, ref);
      }
    } else if (purpose.startsWith('children:')) {
      const parentKey = processKey(purpose.slice('children:'.length));
      const parent = list.find((node) => processKey(node.guid) === parentKey);
      for (const event of page.data.events) {
        if (event.process && processKey(event.parent?.guid) === parentKey) {
          const child = { ...event.process, parentGuid: event.parent?.guid, startTime: event.timestamp };
          upsert(list, child, 'descendant', Math.max(parent?.depth ?? 0, 0) + 1, ref);
          if (observations.lineage === 'alert') observations.lineage = 'siem';
        }
      }
    } else {
      recordEvents(observations, page.data.events, ref);
      if (purpose.startsWith('events:network_connection')) observations.networkChecked = true;
    }
    return true;
  }
  if (name === 'edr.network_connections') {
    const parsed = connections.safeParse(value);
    if (!parsed.success) return false;
    for (const connection of parsed.data.connections) {
      observations.connections.push({
        processGuid: connection.processGuid ?? null,
        image: connection.image ?? null,
        destinationIp: connection.destinationIp,
        destinationPort: connection.destinationPort ?? null,
        destinationHostname: connection.destinationHostname ?? null,
        ref,
      });
    }
    observations.networkChecked = true;
    return true;
  }
  if (name === 'edr.host_summary') {
    const parsed = hostSummary.safeParse(value);
    if (!parsed.success) return false;
    const { host, criticality, role, isolated } = parsed.data;
    observations.host = { host, criticality, role: role ?? null, isolated, ref };
    return true;
  }
  if (name === 'intel.lookup_indicator') {
    const parsed = indicatorVerdict.safeParse(value);
    if (!parsed.success) return false;
    const families = [...new Set(parsed.data.matches.map((match) => match.family).filter(Boolean))];
    const sources = [...new Set(parsed.data.matches.map((match) => match.source).filter(Boolean))];
    observations.intel.push({
      value: parsed.data.value,
      verdict: parsed.data.verdict,
      families,
      sources,
      ref,
    });
    return true;
  }
  if (name === 'load_skill') {
    // The result is the runbook's text; which runbook is the call's own argument.
    const skill = input.name;
    if (typeof skill !== 'string' || !loadedSkill.safeParse(value).success) return false;
    observations.skills.push({ name: skill, ref });
    return true;
  }
  return true;
}

/** Everything the transcript has taught so far, starting from the alert's own fields. */
export function observe(alert: AlertFacts, transcript: Transcript): Observations {
  const observations: Observations = {
    processes: fromAlert(alert),
    connections: [],
    networkChecked: false,
    events: [],
    intel: [],
    host: null,
    skills: [],
    failures: [],
    attempted: new Set(),
    lineage: 'alert',
    checklist: [],
  };
  for (const { call, result } of transcript.exchanges) {
    const purpose = purposeOf(call.name, call.input);
    observations.attempted.add(purpose);
    if (!result) continue;
    if (result.isError) {
      const parsed = toolError.safeParse(result.value);
      observations.failures.push({
        tool: call.name,
        purpose,
        error: parsed.success ? parsed.data.error : 'error',
        ref: result.ref,
      });
      continue;
    }
    if (!recordResult(observations, alert, purpose, call.input, result)) {
      observations.failures.push({ tool: call.name, purpose, error: 'unreadable_result', ref: result.ref });
    }
  }
  observations.checklist = checklistFindings(alert, transcript);
  return observations;
}
