import type { LabDatabase } from './database.js';

export interface LabStatus {
  events: number;
  hosts: number;
  /** Time of the oldest and newest event, ISO-8601, null when empty. */
  from: string | null;
  to: string | null;
  files: Array<{ path: string; events: number; errors: number; loadedAt: string }>;
}

/** What the store holds: counts, time range and the files loaded, oldest load first. */
export async function readLabStatus(database: LabDatabase): Promise<LabStatus> {
  const [totals] = await database.all(
    'SELECT count(*) AS n, count(DISTINCT host_key) AS hosts, epoch_ms(min(ts)) AS first_ms, epoch_ms(max(ts)) AS last_ms FROM events',
  );
  const files = await database.all(
    'SELECT path, events, errors, epoch_ms(loaded_at) AS loaded_ms FROM files ORDER BY file_id',
  );
  const iso = (value: unknown) =>
    value === null || value === undefined ? null : new Date(Number(value)).toISOString();
  return {
    events: Number(totals?.n ?? 0),
    hosts: Number(totals?.hosts ?? 0),
    from: iso(totals?.first_ms),
    to: iso(totals?.last_ms),
    files: files.map((row) => ({
      path: String(row.path),
      events: Number(row.events),
      errors: Number(row.errors),
      loadedAt: iso(row.loaded_ms) ?? '',
    })),
  };
}
