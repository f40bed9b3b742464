import type { DuckDBValue } from '@duckdb/node-api';
import type { EventAction, ProcessActivityQuery } from '../../capability/backends/types.js';
import type { EdrTelemetry } from '../edr.js';
import { bareGuid, shortHost } from '../events.js';
import type { LabDatabase, Row } from './database.js';
import { narrowedWhere } from './filters.js';
import { createStoreLineage } from './lineage.js';

const str = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** EDR telemetry over the DuckDB event store. */
export function createStoreTelemetry(database: LabDatabase): EdrTelemetry {
  const lineage = createStoreLineage(database);

  const activity = async (
    action: EventAction,
    query: ProcessActivityQuery,
    columns: string,
    extra: { sql: string; params: DuckDBValue[] } = { sql: 'TRUE', params: [] },
  ): Promise<Row[]> => {
    const where = await narrowedWhere(database, {
      action,
      host: query.host,
      processGuid: query.processGuid,
      from: query.from,
      to: query.to,
    });
    if (where === null) return [];
    return database.all(
      `SELECT id, epoch_ms(ts) AS ts_ms, host, process_guid, process_image, ${columns} FROM events
       WHERE ${where.sql} AND ${extra.sql} ORDER BY ts, seq LIMIT ?::BIGINT`,
      [...where.params, ...extra.params, query.limit],
    );
  };
  const source = (row: Row) => ({
    timestamp: new Date(Number(row.ts_ms)).toISOString(),
    host: String(row.host),
    processGuid: str(row.process_guid),
    image: str(row.process_image) || null,
    eventId: String(row.id),
  });

  return {
    async seenHost(host) {
      const rows = await database.all('SELECT host FROM events WHERE host_key = ? LIMIT 1', [
        shortHost(host),
      ]);
      return rows[0] ? shortHost(String(rows[0].host)) : null;
    },
    processByGuid: (guid) => lineage.byGuid(guid),
    processByPid: (host, pid) => lineage.byPid(host, pid),
    processTree: (root) => lineage.tree(root),
    async hasEnded(guid) {
      const rows = await database.all(
        `SELECT 1 FROM events WHERE process_key = ? AND action = 'process_end' LIMIT 1`,
        [bareGuid(guid)],
      );
      return rows.length > 0;
    },
    async hostActivity(host) {
      const key = shortHost(host);
      const [summary] = await database.all(
        'SELECT count(*) AS n, epoch_ms(max(ts)) AS last_ms FROM events WHERE host_key = ?',
        [key],
      );
      const users = await database.all(
        'SELECT DISTINCT user_name FROM events WHERE host_key = ? AND user_name IS NOT NULL',
        [key],
      );
      return {
        eventCount: Number(summary?.n ?? 0),
        lastSeen:
          summary?.last_ms === null || summary === undefined
            ? null
            : new Date(Number(summary.last_ms)).toISOString(),
        users: users.map((row) => String(row.user_name)),
      };
    },
    async networkConnections(query) {
      const rows = await activity(
        'network_connection',
        query,
        'network_protocol, source_ip, source_port, destination_ip, destination_port, destination_hostname',
      );
      return rows.map((row) => ({
        ...source(row),
        protocol: str(row.network_protocol) ?? 'tcp',
        sourceIp: str(row.source_ip) ?? '',
        sourcePort: Number(row.source_port ?? 0),
        destinationIp: str(row.destination_ip) ?? '',
        destinationPort: Number(row.destination_port ?? 0),
        destinationHostname: str(row.destination_hostname),
      }));
    },
    async imageLoads(query) {
      const rows = await activity('image_load', query, 'coalesce(image_loaded, file_path) AS loaded', {
        sql: 'coalesce(image_loaded, file_path) IS NOT NULL',
        params: [],
      });
      return rows.map((row) => ({ ...source(row), imageLoaded: String(row.loaded) }));
    },
    async processAccess(query) {
      const parts: string[] = [];
      const params: DuckDBValue[] = [];
      if (query.targetProcessGuid !== undefined) {
        parts.push('target_key = ?');
        params.push(bareGuid(query.targetProcessGuid));
      }
      if (query.targetImage !== undefined) {
        parts.push('contains(lower(target_image), ?)');
        params.push(query.targetImage.toLowerCase());
      }
      const rows = await activity(
        'process_access',
        query,
        'target_guid, target_pid, target_image, granted_access',
        {
          sql: parts.length === 0 ? 'TRUE' : parts.join(' AND '),
          params,
        },
      );
      return rows.map((row) => {
        const { processGuid, image, ...rest } = source(row);
        return {
          ...rest,
          sourceProcessGuid: processGuid,
          sourceImage: image,
          targetProcessGuid: str(row.target_guid),
          targetPid: row.target_pid === null ? null : Number(row.target_pid),
          targetImage: str(row.target_image),
          grantedAccess: str(row.granted_access),
        };
      });
    },
    async fileWrites(query) {
      const rows = await activity('file_create', query, 'file_path', {
        sql: 'file_path IS NOT NULL',
        params: [],
      });
      return rows.map((row) => ({ ...source(row), path: String(row.file_path) }));
    },
    async registryWrites(query) {
      const rows = await activity('registry_set', query, 'registry_key, registry_value', {
        sql: 'registry_key IS NOT NULL',
        params: [],
      });
      return rows.map((row) => ({
        ...source(row),
        key: String(row.registry_key),
        value: str(row.registry_value),
      }));
    },
  };
}
