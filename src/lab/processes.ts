import type { LabEvent, ProcessNode, ProcessTree } from '../capability/backends/types.js';
import { bareGuid, sameHost } from './events.js';

/** Cap on ancestors and descendants walked, so a malformed lineage cannot run away. */
const maxLineage = 500;

/** Process lineage built from process-start events that carry a ProcessGuid (Sysmon 1). */
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
    if (node.parentGuid !== null) {
      const key = bareGuid(node.parentGuid);
      children.set(key, [...(children.get(key) ?? []), node]);
    }
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
      let latest: ProcessNode | undefined;
      for (const node of nodes.values()) {
        if (node.pid !== pid || !sameHost(node.host, host)) continue;
        if (!latest || Date.parse(node.startTime) >= Date.parse(latest.startTime)) latest = node;
      }
      return latest;
    },
    hasEnded: (guid) => ended.has(bareGuid(guid)),
    tree: (root) => ({ process: root, ancestors: ancestorsOf(root), descendants: descendantsOf(root) }),
  };
}
