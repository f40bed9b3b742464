import type {
  CountableField,
  CountQuery,
  CountResult,
  EventPage,
  EventQuery,
  LabEvent,
  LogonRecord,
  SiemBackend,
} from '../capability/backends/types.js';
import type { EventStore } from './events.js';
import { inWindow, sameUser, timeWindow } from './events.js';

const fieldValue: Record<CountableField, (event: LabEvent) => string | number | null | undefined> = {
  host: (event) => event.host,
  user: (event) => event.user,
  eventCode: (event) => event.eventCode,
  action: (event) => event.action,
  channel: (event) => event.channel,
  'process.image': (event) => event.process?.image,
  'parent.image': (event) => event.parent?.image,
  'network.destinationIp': (event) => event.network?.destinationIp,
  'network.destinationPort': (event) => event.network?.destinationPort,
  'dns.query': (event) => event.dns?.query,
};

/** A SIEM over the in-memory event store: search, fetch, count and logon history. */
export function createLabSiem(store: EventStore): SiemBackend {
  return {
    async searchEvents(query: EventQuery): Promise<EventPage> {
      const { limit, offset, ...filter } = query;
      const matching = store.filter(filter);
      const events = matching.slice(offset, offset + limit);
      const next = offset + events.length;
      return { events, total: matching.length, nextOffset: next < matching.length ? next : null };
    },

    async getEvent(id: string): Promise<LabEvent | null> {
      return store.get(id) ?? null;
    },

    async countEvents(query: CountQuery): Promise<CountResult> {
      const { field, limit, ...filter } = query;
      const counts = new Map<string, number>();
      let total = 0;
      for (const event of store.filter(filter)) {
        const value = fieldValue[field](event);
        if (value === null || value === undefined || value === '') continue;
        const key = String(value);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        total += 1;
      }
      const buckets = [...counts.entries()]
        .map(([value, count]) => ({ value, count }))
        .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
        .slice(0, limit);
      return { field, buckets, total };
    },

    async logonHistory(query): Promise<LogonRecord[]> {
      const window = timeWindow(query.from, query.to);
      const logons: LogonRecord[] = [];
      for (const event of store.events) {
        if (event.action !== 'logon' && event.action !== 'logon_failed') continue;
        if (!sameUser(event.user, query.user) || !inWindow(event.timestamp, window)) continue;
        logons.push({
          timestamp: event.timestamp,
          host: event.host,
          user: event.user ?? query.user,
          outcome: event.action === 'logon' ? 'success' : 'failure',
          logonType: event.logon?.type ?? 0,
          sourceIp: event.logon?.sourceIp ?? null,
          eventId: event.id,
        });
      }
      // Most recent first: with a limit, the analyst wants the latest logons, not the oldest.
      return logons.reverse().slice(0, query.limit);
    },
  };
}
