import type { LabEvent } from '../capability/backends/types.js';
import { bareGuid, shortHost } from './events.js';

/**
 * Security 4688 (process creation) carries no process GUID, only the new process's id and its
 * creator's id, and Windows reuses ids. A process is identified by host, id and creation time,
 * written as a GUID-like key (`{4688-<HOST>-0x<pid>-<epoch ms>}`) so the EDR tools take it as
 * they take a Sysmon ProcessGuid; a parent is the latest creation of the creator's id on the same
 * host at or before the child's creation.
 */
export function auditProcessGuid(host: string, pid: number, timestamp: string): string {
  return `{4688-${shortHost(host)}-0x${pid.toString(16)}-${Date.parse(timestamp)}}`;
}

/** The lower-cased, brace-less prefix every `auditProcessGuid` key starts with. */
export const auditKeyPrefix = '4688-';

/**
 * Sets the parent GUID of Security 4688 events that have none to the latest earlier creation of
 * their creator's id on the same host (the in-memory twin of `linkAuditParentsSql`). Mutates the events.
 */
export function linkAuditParents(events: readonly LabEvent[]): void {
  const isAudit = (event: LabEvent) =>
    event.eventCode === 4688 &&
    event.process !== null &&
    bareGuid(event.process.guid).startsWith(auditKeyPrefix);
  const byHostPid = new Map<string, LabEvent[]>();
  for (const event of events) {
    if (!isAudit(event)) continue;
    const key = `${shortHost(event.host)}|${event.process?.pid}`;
    byHostPid.set(key, [...(byHostPid.get(key) ?? []), event]);
  }
  for (const child of events) {
    const parent = child.parent;
    if (!isAudit(child) || !parent || parent.guid !== '' || parent.pid <= 0) continue;
    const started = Date.parse(child.timestamp);
    let best: LabEvent | undefined;
    for (const candidate of byHostPid.get(`${shortHost(child.host)}|${parent.pid}`) ?? []) {
      const at = Date.parse(candidate.timestamp);
      if (candidate.process?.guid === child.process?.guid || at > started) continue;
      if (!best || at >= Date.parse(best.timestamp)) best = candidate;
    }
    if (best?.process) parent.guid = best.process.guid;
  }
}
