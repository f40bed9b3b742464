import type {
  EventAction,
  LabEvent,
  ProcessActivityQuery,
  ProcessNode,
  ProcessTree,
} from '../capability/backends/types.js';
import { auditKeyPrefix } from './audit-lineage.js';
import type { EdrTelemetry } from './edr.js';
import type { EventStore } from './events.js';
import { bareGuid, sameGuid, sameHost, shortHost } from './events.js';

/** Cap on ancestors and descendants walked, so a malformed lineage cannot run away. */
const maxLineage = 500;

/** Process lineage from process starts: Sysmon 1 (ProcessGuid) and Security 4688 (derived keys). */
export interface ProcessIndex {
  byGuid(guid: string): ProcessNode | undefined;
  /** The most recent process started with this pid on this host. */
  byPid(host: string, pid: number): ProcessNode | undefined;
  /** Whether a process-end event was recorded for the process. */
  hasEnded(guid: string): boolean;
  tree(root: ProcessNode): ProcessTree;
}

/** Indexes process starts and ends of the given events. */
export function createProcessIndex(events: readonly LabEvent[]): ProcessIndex {
  const nodes = new Map<string, ProcessNode>();
  const children = new Map<string, ProcessNode[]>();
  const ended = new Set<string>();
  for (const event of events) {
    const guid = event.process?.guid ?? '';
    if (guid === '') continue;
    if (event.action === 'process_end') ended.add(bareGuid(guid));
    if (event.action !== 'process_start' || !event.process) continue;
    const node: ProcessNode = {
      guid,
      pid: event.process.pid,
      parentGuid: event.parent?.guid || null,
      host: event.host,
      user: event.user,
      image: event.process.image,
      commandLine: event.process.commandLine,
      startTime: event.timestamp,
      eventId: event.id,
    };
    nodes.set(bareGuid(guid), node);
  }
  for (const node of nodes.values()) {
    if (node.parentGuid === null) continue;
    const key = bareGuid(node.parentGuid);
    children.set(key, [...(children.get(key) ?? []), node]);
  }

  function ancestorsOf(node: ProcessNode): ProcessNode[] {
    const ancestors: ProcessNode[] = [];
    const seen = new Set([bareGuid(node.guid)]);
    let current = node;
    while (current.parentGuid !== null && ancestors.length < maxLineage) {
      const key = bareGuid(current.parentGuid);
      const parent = nodes.get(key);
      if (!parent || seen.has(key)) break;
      seen.add(key);
      ancestors.push(parent);
      current = parent;
    }
    return ancestors;
  }

  function descendantsOf(node: ProcessNode): Array<ProcessNode & { depth: number }> {
    const result: Array<ProcessNode & { depth: number }> = [];
    const seen = new Set([bareGuid(node.guid)]);
    const visit = (parent: ProcessNode, depth: number): void => {
      for (const child of children.get(bareGuid(parent.guid)) ?? []) {
        const key = bareGuid(child.guid);
        if (seen.has(key) || result.length >= maxLineage) continue;
        seen.add(key);
        result.push({ ...child, depth });
        visit(child, depth + 1);
      }
    };
    visit(node, 1);
    return result;
  }

  return {
    byGuid: (guid) => nodes.get(bareGuid(guid)),
    byPid(host, pid) {
      // Sysmon processes first: where both logs exist, their lineage is the recorded one.
      const rank = (node: ProcessNode) => (bareGuid(node.guid).startsWith(auditKeyPrefix) ? 0 : 1);
      let latest: ProcessNode | undefined;
      for (const node of nodes.values()) {
        if (node.pid !== pid || !sameHost(node.host, host)) continue;
        const better =
          !latest ||
          rank(node) > rank(latest) ||
          (rank(node) === rank(latest) && Date.parse(node.startTime) >= Date.parse(latest.startTime));
        if (better) latest = node;
      }
      return latest;
    },
    hasEnded: (guid) => ended.has(bareGuid(guid)),
    tree: (root) => ({ process: root, ancestors: ancestorsOf(root), descendants: descendantsOf(root) }),
  };
}

/** EDR telemetry over the in-memory event store and its process index (the sample lab). */
export function createMemoryTelemetry(store: EventStore, processes: ProcessIndex): EdrTelemetry {
  const activity = (action: EventAction, query: ProcessActivityQuery): LabEvent[] =>
    store
      .filter({ action, host: query.host, processGuid: query.processGuid, from: query.from, to: query.to })
      .slice(0, query.limit);
  const source = (event: LabEvent) => ({
    timestamp: event.timestamp,
    host: event.host,
    processGuid: event.process?.guid || null,
    image: event.process?.image || null,
    eventId: event.id,
  });
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  return {
    async seenHost(host) {
      const seen = store.events.find((event) => sameHost(event.host, host));
      return seen ? shortHost(seen.host) : null;
    },
    processByGuid: async (guid) => processes.byGuid(guid) ?? null,
    processByPid: async (host, pid) => processes.byPid(host, pid) ?? null,
    hasEnded: async (guid) => processes.hasEnded(guid),
    processTree: async (root) => processes.tree(root),
    async hostActivity(host) {
      const events = store.filter({ host });
      const users = new Set(events.flatMap((event) => (event.user === null ? [] : [event.user])));
      return { lastSeen: events.at(-1)?.timestamp ?? null, users: [...users], eventCount: events.length };
    },
    async networkConnections(query) {
      return activity('network_connection', query).flatMap((event) =>
        event.network ? [{ ...source(event), ...event.network }] : [],
      );
    },
    async imageLoads(query) {
      return activity('image_load', query).flatMap((event) => {
        const imageLoaded = text(event.raw.ImageLoaded) ?? event.file?.path ?? null;
        return imageLoaded === null ? [] : [{ ...source(event), imageLoaded }];
      });
    },
    async processAccess(query) {
      const targetImage = query.targetImage?.toLowerCase();
      return store
        .filter({
          action: 'process_access',
          host: query.host,
          processGuid: query.processGuid,
          from: query.from,
          to: query.to,
        })
        .filter(
          (event) =>
            (query.targetProcessGuid === undefined ||
              sameGuid(
                text(event.raw.TargetProcessGUID) ?? text(event.raw.TargetProcessGuid),
                query.targetProcessGuid,
              )) &&
            (targetImage === undefined ||
              (text(event.raw.TargetImage) ?? '').toLowerCase().includes(targetImage)),
        )
        .slice(0, query.limit)
        .map((event) => {
          const { processGuid, image, ...rest } = source(event);
          const targetPid = Number(event.raw.TargetProcessId);
          return {
            ...rest,
            sourceProcessGuid: processGuid,
            sourceImage: image,
            targetProcessGuid: text(event.raw.TargetProcessGUID) ?? text(event.raw.TargetProcessGuid),
            targetPid: Number.isSafeInteger(targetPid) ? targetPid : null,
            targetImage: text(event.raw.TargetImage),
            grantedAccess: text(event.raw.GrantedAccess),
          };
        });
    },
    async fileWrites(query) {
      return activity('file_create', query).flatMap((event) =>
        event.file ? [{ ...source(event), path: event.file.path }] : [],
      );
    },
    async registryWrites(query) {
      return activity('registry_set', query).flatMap((event) =>
        event.registry ? [{ ...source(event), key: event.registry.key, value: event.registry.value }] : [],
      );
    },
  };
}
