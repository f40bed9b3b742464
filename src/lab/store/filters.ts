import type { DuckDBValue } from '@duckdb/node-api';
import type { EventFilter } from '../../capability/backends/types.js';
import { bareGuid, shortHost, timeWindow } from '../events.js';
import type { LabDatabase } from './database.js';
import type { RawFile } from './raw.js';
import { rawMatchSql, rawReaderOf } from './raw.js';

/** A parameterised WHERE clause; values are always bound, never spliced into the SQL. */
export interface WhereClause {
  sql: string;
  params: DuckDBValue[];
}

/**
 * Translates the backend filter into SQL with the in-memory lab's semantics: short host names match
 * FQDNs, a bare user matches any domain, GUIDs ignore braces and case, text is case-insensitive.
 * Free text also searches the raw records, which live in files outside DuckDB: `rawFiles` names
 * those that may hold a match (required with `text`; see `narrowedWhere`).
 * Throws `InputError` for an unparseable time bound.
 */
export function whereClause(filter: EventFilter, rawFiles?: readonly RawFile[]): WhereClause {
  const parts: string[] = [];
  const params: DuckDBValue[] = [];
  const add = (sql: string, ...values: DuckDBValue[]) => {
    parts.push(sql);
    params.push(...values);
  };
  const window = timeWindow(filter.from, filter.to);
  if (window.from !== null) add('ts >= epoch_ms(?::BIGINT)', window.from);
  if (window.to !== null) add('ts <= epoch_ms(?::BIGINT)', window.to);
  if (filter.host !== undefined) add('host_key = ?', shortHost(filter.host));
  if (filter.user !== undefined) {
    const wanted = filter.user.trim().toLowerCase();
    if (wanted.includes('\\')) add('lower(user_name) = ?', wanted);
    else add('user_key = ?', wanted.split('@')[0] ?? wanted);
  }
  if (filter.eventCode !== undefined) add('event_code = ?::INTEGER', filter.eventCode);
  if (filter.action !== undefined) add('action = ?', filter.action);
  if (filter.processGuid !== undefined) add('process_key = ?', bareGuid(filter.processGuid));
  if (filter.parentProcessGuid !== undefined) add('parent_key = ?', bareGuid(filter.parentProcessGuid));
  if (filter.process !== undefined) add(...substring('process_image', filter.process));
  if (filter.commandLine !== undefined) add(...commandLineMatch(filter.commandLine));
  if (filter.text !== undefined) {
    if (rawFiles === undefined) throw new Error('a free-text filter needs the raw files to search');
    const [command, commandValue] = commandLineMatch(filter.text);
    if (rawFiles.length === 0) add(`(${command})`, commandValue);
    else {
      // The raw record is stored as JSON text, where a backslash or quote appears escaped.
      const [raw, rawValue] = substring('raw', JSON.stringify(filter.text).slice(1, -1));
      add(`(${command} OR seq IN (${rawMatchSql(rawFiles, raw)}))`, commandValue, rawValue);
    }
  }
  return { sql: parts.length === 0 ? 'TRUE' : parts.join(' AND '), params };
}

/**
 * A case-insensitive substring test. ILIKE with a constant-shaped pattern runs in place, about 5x
 * faster over millions of rows than contains(lower(...)) or ILIKE with an ESCAPE clause, so those
 * serve only needles holding a LIKE wildcard.
 */
function substring(column: string, needle: string): [string, string] {
  if (/[%_\\]/.test(needle)) return [`contains(lower(${column}), ?)`, needle.toLowerCase()];
  return [`${column} ILIKE ?`, `%${needle}%`];
}

/**
 * A case-insensitive substring test on the process command line, run over the distinct lower-cased
 * command lines (`command_lines`, far fewer than events) and joined back by integer id: over 10M
 * events this is a scan of one integer column instead of every command line's text.
 */
function commandLineMatch(needle: string): [string, string] {
  if (needle === '') return ['contains(lower(process_command_line), ?)', ''];
  return [
    'command_id IN (SELECT command_id FROM command_lines WHERE contains(command_lower, ?))',
    needle.toLowerCase(),
  ];
}

/**
 * The table a filtered query reads: `command_events` when the filter requires a (non-empty) command
 * line substring, since every match then has a command line and so a row there, with the same columns;
 * else `events`. A page of matches scattered over `events` would cost a random read of every column of
 * each match.
 */
export function eventTableOf(filter: EventFilter): 'events' | 'command_events' {
  return filter.commandLine !== undefined && filter.commandLine !== '' ? 'command_events' : 'events';
}

/**
 * `whereClause`, narrowed for GUID filters: the GUID's events are looked up in the ART index
 * first and the clause gains their `seq` range, which lets the ordered page query prune row
 * groups by zone map (DuckDB's top-N plans do not use the index themselves). Null when no event
 * has the GUID, so the caller can answer without scanning. With free text, the raw files searched
 * are those of the sources holding events that pass the other filters.
 */
export async function narrowedWhere(database: LabDatabase, filter: EventFilter): Promise<WhereClause | null> {
  let where = whereClause({ ...filter, text: undefined });
  const guid = filter.processGuid ?? filter.parentProcessGuid;
  let range: WhereClause = { sql: 'TRUE', params: [] };
  if (guid !== undefined) {
    const column = filter.processGuid !== undefined ? 'process_key' : 'parent_key';
    const [found] = await database.all(
      `SELECT min(seq) AS lo, max(seq) AS hi FROM events WHERE ${column} = ?`,
      [bareGuid(guid)],
    );
    if (found?.lo === null || found?.lo === undefined) return null;
    range = { sql: 'seq BETWEEN ?::BIGINT AND ?::BIGINT', params: [Number(found.lo), Number(found.hi)] };
  }
  if (filter.text !== undefined) {
    const files = await database.all(
      `SELECT DISTINCT file_id FROM ${eventTableOf(filter)} WHERE ${where.sql} AND ${range.sql} ORDER BY file_id`,
      [...where.params, ...range.params],
    );
    const rawFiles = await rawReaderOf(database).paths(files.map((row) => Number(row.file_id)));
    where = whereClause(filter, rawFiles);
  }
  return { sql: `${where.sql} AND ${range.sql}`, params: [...where.params, ...range.params] };
}
