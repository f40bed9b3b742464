import type {
  CountableField,
  CountResult,
  EventPage,
  LabEvent,
  LogonRecord,
  SiemBackend,
} from '../../capability/backends/types.js';
import type { LabDatabase, Row } from './database.js';
import { eventTableOf, narrowedWhere, whereClause } from './filters.js';
import { rawReaderOf } from './raw.js';
import { labEventSelect, rowToLabEvent } from './rows.js';

/** Columns behind the countable fields; an allow-list, so no model-chosen name reaches the SQL. */
const countColumns: Record<CountableField, string> = {
  host: 'host',
  user: 'user_name',
  eventCode: 'event_code',
  action: 'action',
  channel: 'channel',
  'process.image': 'process_image',
  'parent.image': 'parent_image',
  'network.destinationIp': 'destination_ip',
  'network.destinationPort': 'destination_port',
  'dns.query': 'dns_query',
};

/** A SIEM over the DuckDB event store: search, fetch, count and logon history, all parameterised SQL. */
export function createStoreSiem(database: LabDatabase): SiemBackend {
  const raw = rawReaderOf(database);
  const toEvents = async (rows: Row[]): Promise<LabEvent[]> => {
    const records = await raw.read(rows);
    return rows.map((row, index) => rowToLabEvent(row, records[index] as string));
  };
  return {
    async searchEvents(query): Promise<EventPage> {
      const { limit, offset, ...filter } = query;
      const where = await narrowedWhere(database, filter);
      if (where === null) return { events: [], total: 0, nextOffset: null };
      const table = eventTableOf(filter);
      const [rows, counted] = await Promise.all([
        database.all(
          `SELECT ${labEventSelect} FROM ${table} WHERE ${where.sql} ORDER BY ts, seq LIMIT ?::BIGINT OFFSET ?::BIGINT`,
          [...where.params, limit, offset],
        ),
        database.all(`SELECT count(*) AS n FROM ${table} WHERE ${where.sql}`, where.params),
      ]);
      const total = Number(counted[0]?.n ?? 0);
      const events = await toEvents(rows);
      const next = offset + events.length;
      return { events, total, nextOffset: next < total ? next : null };
    },

    async getEvent(id): Promise<LabEvent | null> {
      const rows = await database.all(`SELECT ${labEventSelect} FROM events WHERE id = ? LIMIT 1`, [id]);
      return rows[0] ? ((await toEvents(rows))[0] ?? null) : null;
    },

    async countEvents(query): Promise<CountResult> {
      const { field, limit, ...filter } = query;
      const column = countColumns[field];
      const where = await narrowedWhere(database, filter);
      if (where === null) return { field, buckets: [], total: 0 };
      const value = `CAST(${column} AS VARCHAR)`;
      const present = `${where.sql} AND ${column} IS NOT NULL AND ${value} <> ''`;
      const [rows, counted] = await Promise.all([
        database.all(
          `SELECT ${value} AS value, count(*) AS n FROM events WHERE ${present} GROUP BY 1 ORDER BY n DESC, value LIMIT ?::BIGINT`,
          [...where.params, limit],
        ),
        database.all(`SELECT count(*) AS n FROM events WHERE ${present}`, where.params),
      ]);
      return {
        field,
        buckets: rows.map((row) => ({ value: String(row.value), count: Number(row.n) })),
        total: Number(counted[0]?.n ?? 0),
      };
    },

    async logonHistory(query): Promise<LogonRecord[]> {
      const where = whereClause({ user: query.user, from: query.from, to: query.to });
      // Most recent first: with a limit, the analyst wants the latest logons, not the oldest.
      const rows = await database.all(
        `SELECT id, epoch_ms(ts) AS ts_ms, host, user_name, action, logon_type, logon_source_ip FROM events
         WHERE action IN ('logon', 'logon_failed') AND ${where.sql} ORDER BY ts DESC, seq DESC LIMIT ?::BIGINT`,
        [...where.params, query.limit],
      );
      return rows.map((row) => ({
        timestamp: new Date(Number(row.ts_ms)).toISOString(),
        host: String(row.host),
        user: String(row.user_name ?? query.user),
        outcome: row.action === 'logon' ? 'success' : 'failure',
        logonType: Number(row.logon_type ?? 0),
        sourceIp: row.logon_source_ip === null ? null : String(row.logon_source_ip),
        eventId: String(row.id),
      }));
    },
  };
}
