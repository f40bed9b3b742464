import type { EventFilter, LabEvent } from '../capability/backends/types.js';

export type { EventFilter };

import { InputError } from '../errors.js';

/** In-memory, time-ordered event index shared by the lab SIEM and EDR. */
export interface EventStore {
  readonly events: readonly LabEvent[];
  get(id: string): LabEvent | undefined;
  /** Matching events, oldest first. Throws `InputError` for an unparseable time bound. */
  filter(filter: EventFilter): LabEvent[];
}

/** Builds the store; events are sorted by timestamp, then id, so paging is stable. */
export function createEventStore(events: readonly LabEvent[]): EventStore {
  const sorted = [...events].sort((a, b) => compareEvents(a, b));
  const byId = new Map(sorted.map((event) => [event.id, event]));
  const haystacks = new Map(sorted.map((event) => [event.id, haystackOf(event)]));
  return {
    events: sorted,
    get: (id) => byId.get(id),
    filter(filter) {
      const window = timeWindow(filter.from, filter.to);
      const needle = filter.text?.toLowerCase();
      return sorted.filter(
        (event) =>
          inWindow(event.timestamp, window) &&
          matchesFields(event, filter) &&
          (needle === undefined || (haystacks.get(event.id) ?? '').includes(needle)),
      );
    },
  };
}

function matchesFields(event: LabEvent, filter: EventFilter): boolean {
  if (filter.host !== undefined && !sameHost(event.host, filter.host)) return false;
  if (filter.user !== undefined && !sameUser(event.user, filter.user)) return false;
  if (filter.eventCode !== undefined && event.eventCode !== filter.eventCode) return false;
  if (filter.action !== undefined && event.action !== filter.action) return false;
  if (filter.process !== undefined && !contains(event.process?.image, filter.process)) return false;
  if (filter.commandLine !== undefined && !contains(event.process?.commandLine, filter.commandLine))
    return false;
  if (filter.processGuid !== undefined && !sameGuid(event.process?.guid, filter.processGuid)) return false;
  if (filter.parentProcessGuid !== undefined && !sameGuid(event.parent?.guid, filter.parentProcessGuid)) {
    return false;
  }
  return true;
}

/** Short host names compare equal to FQDNs (`FIN-WS01` matches `FIN-WS01.harbourline.local`). */
export function sameHost(eventHost: string, query: string): boolean {
  return shortHost(eventHost) === shortHost(query);
}

/** The host name's first label, upper-cased; IP addresses are kept whole. */
export function shortHost(host: string): string {
  const trimmed = host.trim();
  if (/^[\d.]+$/.test(trimmed) || trimmed.includes(':')) return trimmed.toLowerCase();
  return (trimmed.split('.')[0] ?? trimmed).toUpperCase();
}

/**
 * `DOMAIN\name` matches exactly; a bare `name` (or `name@domain`) matches the account part,
 * so `m.okafor` finds `HARBOURLINE\m.okafor`. Case-insensitive.
 */
export function sameUser(eventUser: string | null, query: string): boolean {
  if (eventUser === null) return false;
  const wanted = query.trim().toLowerCase();
  const actual = eventUser.toLowerCase();
  if (wanted.includes('\\')) return actual === wanted;
  const accountOf = (user: string) => user.slice(user.lastIndexOf('\\') + 1);
  return accountOf(actual) === (wanted.split('@')[0] ?? wanted);
}

/** Process GUIDs compare without braces and case. */
export function sameGuid(actual: string | undefined | null, query: string): boolean {
  if (!actual) return false;
  return bareGuid(actual) === bareGuid(query);
}

export function bareGuid(guid: string): string {
  // Sliced rather than by a regular expression replace: the loader keys every event's GUIDs.
  const trimmed = guid.trim();
  const start = trimmed.startsWith('{') ? 1 : 0;
  const end = trimmed.length > start && trimmed.endsWith('}') ? trimmed.length - 1 : trimmed.length;
  return trimmed.slice(start, end).toLowerCase();
}

function contains(value: string | undefined, needle: string): boolean {
  return value?.toLowerCase().includes(needle.toLowerCase()) ?? false;
}

export interface TimeWindow {
  from: number | null;
  to: number | null;
}

/** Parses inclusive ISO-8601 bounds; throws `InputError` naming the bad bound. */
export function timeWindow(from?: string, to?: string): TimeWindow {
  const window = { from: parseBound(from, 'from'), to: parseBound(to, 'to') };
  if (window.from !== null && window.to !== null && window.from > window.to) {
    throw new InputError(`"from" (${from}) is after "to" (${to})`);
  }
  return window;
}

export function inWindow(timestamp: string, window: TimeWindow): boolean {
  const time = Date.parse(timestamp);
  return (window.from === null || time >= window.from) && (window.to === null || time <= window.to);
}

function parseBound(value: string | undefined, name: string): number | null {
  if (value === undefined || value.trim() === '') return null;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw new InputError(
      `"${name}" is not an ISO-8601 time: ${JSON.stringify(value)} (e.g. 2026-11-18T09:00:00Z)`,
    );
  }
  return parsed;
}

function compareEvents(a: LabEvent, b: LabEvent): number {
  const byTime = Date.parse(a.timestamp) - Date.parse(b.timestamp);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function haystackOf(event: LabEvent): string {
  const rawValues = Object.values(event.raw).map((value) =>
    typeof value === 'string' ? value : JSON.stringify(value),
  );
  return [event.process?.commandLine ?? '', event.message ?? '', ...rawValues].join('\n').toLowerCase();
}
