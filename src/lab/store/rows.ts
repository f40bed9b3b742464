import type { EventAction, LabEvent, ProcessRef } from '../../capability/backends/types.js';
import { bareGuid, shortHost } from '../events.js';
import type { FlatEvent } from '../flatten.js';
import { eventMessage } from '../normalise.js';
import type { EventColumn } from './schema.js';
import { eventColumns } from './schema.js';

/** What the loader knows about an event beyond its normalised form. */
export interface EventProvenance {
  seq: number;
  fileId: number;
  line: number;
  /** The archive member (or file name) the line belongs to. */
  entry: string;
  /** The flattened record as JSON text (for flat records, the source line as recorded). */
  rawJson: string;
  /** The bytes `rawJson` was decoded from, when it is a source line (written as they are when they can be). */
  rawBytes?: Buffer;
  flat: FlatEvent;
}

/** Where the writer put the parts of an event kept outside its row. */
export interface StoredParts {
  /** Id of the lower-cased command line in `command_lines`, null without one. */
  commandId: number | null;
  /** Byte range of the raw record in the source's raw file. */
  rawOffset: number;
  rawLength: number;
}

type ColumnValue = string | number | null;

const commandIdColumn = eventColumns.findIndex(([name]) => name === 'command_id');

/** A key computed once per distinct text (hosts and users repeat across events; the cache is bounded). */
function cachedKey(compute: (text: string) => string): (text: string) => string {
  const known = new Map<string, string>();
  return (text) => {
    let key = known.get(text);
    if (key === undefined) {
      if (known.size >= 10_000) known.clear();
      key = compute(text);
      known.set(text, key);
    }
    return key;
  };
}

const hostKeyOf = cachedKey(shortHost);
const userKeyOf = cachedKey((user) => userKey(user));

/**
 * One event's normalised columns (the raw record is kept apart), keyed and ordered as `eventColumns`
 * (test/lab/store/rows.test.ts checks the order `writeEventLine` relies on).
 */
export function eventColumnValues(
  event: LabEvent,
  from: EventProvenance,
  stored: StoredParts,
): Record<EventColumn, ColumnValue> {
  const { flat } = from;
  const isAccess = event.action === 'process_access';
  const targetGuid = isAccess ? stringField(flat.TargetProcessGUID ?? flat.TargetProcessGuid) : null;
  const network = event.network;
  const process = event.process;
  const parent = event.parent;
  const processGuid = process?.guid || null;
  const parentGuid = parent?.guid || null;
  const columns = {
    seq: from.seq,
    id: event.id,
    file_id: from.fileId,
    line: from.line,
    entry: from.entry,
    ts: Date.parse(event.timestamp),
    host: event.host,
    host_key: hostKeyOf(event.host),
    user_name: event.user,
    user_key: event.user === null ? null : userKeyOf(event.user),
    event_code: event.eventCode,
    channel: event.channel,
    action: event.action,
    process_guid: processGuid,
    process_key: processGuid ? bareGuid(processGuid) : null,
    process_pid: process ? process.pid : null,
    process_image: process ? process.image : null,
    process_command_line: process ? process.commandLine : null,
    command_id: stored.commandId,
    parent_guid: parentGuid,
    parent_key: parentGuid ? bareGuid(parentGuid) : null,
    parent_pid: parent ? parent.pid : null,
    parent_image: parent ? parent.image : null,
    parent_command_line: parent ? parent.commandLine : null,
    network_protocol: network?.protocol ?? null,
    source_ip: network?.sourceIp ?? null,
    source_port: network?.sourcePort ?? null,
    destination_ip: network?.destinationIp ?? null,
    destination_port: network?.destinationPort ?? null,
    destination_hostname: network?.destinationHostname ?? null,
    dns_query: event.dns?.query ?? null,
    dns_answers: event.dns ? JSON.stringify(event.dns.answers) : null,
    file_path: event.file?.path ?? null,
    registry_key: event.registry?.key ?? null,
    registry_value: event.registry?.value ?? null,
    logon_type: event.logon?.type ?? null,
    logon_source_ip: event.logon?.sourceIp ?? null,
    target_guid: targetGuid,
    target_key: targetGuid ? bareGuid(targetGuid) : null,
    target_pid: isAccess ? integerField(flat.TargetProcessId) : null,
    target_image: isAccess ? stringField(flat.TargetImage) : null,
    granted_access: isAccess ? stringField(flat.GrantedAccess) : null,
    image_loaded: event.action === 'image_load' ? stringField(flat.ImageLoaded) : null,
    raw_offset: stored.rawOffset,
    raw_length: stored.rawLength,
  } satisfies Record<EventColumn, ColumnValue>;
  return columns;
}

/**
 * Most bytes one column's CSV field takes: a UTF-16 unit encodes to at most three bytes (a doubled
 * quote to two), plus the quotes; a number or NULL takes at most 24.
 */
function fieldBound(value: ColumnValue): number {
  return typeof value === 'string' ? 3 * value.length + 2 : 24;
}

const backslash = 92;
const quote = 34;

/**
 * Writes a column as a CSV field for `bulkInsertSql` at `at` and returns where it ends: strings always
 * quoted (quotes doubled), so an empty string is not NULL and no delimiter or line break inside one
 * ends it; NULL (and a non-finite number, which JSON would also have written as null) as an unquoted
 * `\N`. ASCII is copied unit by unit: building the line as a string, then encoding it, cost the
 * staging threads about twice as much.
 */
function writeField(buffer: Buffer, at: number, value: ColumnValue): number {
  let end = at;
  if (value === null || (typeof value === 'number' && !Number.isFinite(value))) {
    buffer[end] = backslash;
    buffer[end + 1] = 78;
    return end + 2;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return end + buffer.write(String(value), end, 'latin1');
    // Digits by hand: Buffer#write's argument checks cost more than writing a short number.
    if (value < 0) buffer[end++] = 45;
    const magnitude = Math.abs(value);
    let digits = 1;
    for (let power = 10; power <= magnitude; power *= 10) digits += 1;
    return writeDigits(buffer, end, magnitude, digits);
  }
  buffer[end++] = quote;
  for (let index = 0; index < value.length; index += 1) {
    const unit = value.charCodeAt(index);
    if (unit >= 128) {
      // The rest as UTF-8 (a lone surrogate becomes U+FFFD, as Buffer#write makes it).
      const rest = value.slice(index);
      end += buffer.write(rest.includes('"') ? rest.replaceAll('"', '""') : rest, end, 'utf8');
      break;
    }
    buffer[end++] = unit;
    if (unit === quote) buffer[end++] = quote;
  }
  buffer[end++] = quote;
  return end;
}

/** Writes a non-negative integer at `at` as exactly `digits` digits (zero-padded); returns where they end. */
function writeDigits(buffer: Buffer, at: number, value: number, digits: number): number {
  let rest = value;
  for (let index = at + digits - 1; index >= at; index -= 1) {
    buffer[index] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/**
 * The event id of a source line: `<stem>-<line>`, the line zero-padded to four digits. Here, not in
 * writer.ts, so the staging threads do not load DuckDB's native module (about 0.5 s of CPU each).
 */
export function eventId(stem: string, line: number): string {
  return `${stem}-${String(line).padStart(4, '0')}`;
}

/** Digits of a staged `command_id` (zero-padded, unquoted): the writer overwrites it in place (staging.ts). */
export const stagedCommandIdDigits = 10;

/** A place to write one line of at most `bytes` bytes: a buffer and the offset to start at. */
export type LineSpace = (bytes: number) => { buffer: Buffer; at: number };

/**
 * Writes one event's columns as a CSV line for the bulk reader, in `eventColumns` order, with
 * `command_id` zero-padded to `stagedCommandIdDigits`, where `space` gives room; returns the offsets
 * where the line ends and where its `command_id` field starts (-1 without one), both relative to the
 * line's start. CSV rather than JSON lines: no column names repeated per row, so less than half the
 * bytes to write and read back.
 */
export function writeEventLine(
  space: LineSpace,
  event: LabEvent,
  from: EventProvenance,
  stored: StoredParts,
): { length: number; commandAt: number } {
  const values = Object.values(eventColumnValues(event, from, stored));
  let bound = values.length + 1;
  for (const value of values) bound += fieldBound(value);
  const { buffer, at } = space(bound);
  let end = at;
  let commandAt = -1;
  for (let index = 0; index < values.length; index += 1) {
    if (index > 0) buffer[end++] = 44;
    if (index === commandIdColumn && stored.commandId !== null) {
      commandAt = end - at;
      end = writeDigits(buffer, end, stored.commandId, stagedCommandIdDigits);
    } else end = writeField(buffer, end, values[index] ?? null);
  }
  buffer[end++] = 10;
  return { length: end - at, commandAt };
}

/** The account part of `DOMAIN\\name`, lower-cased: what a bare user filter compares with. */
export function userKey(user: string): string {
  const lower = user.toLowerCase();
  return lower.slice(lower.lastIndexOf('\\') + 1);
}

function stringField(value: unknown): string | null {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function integerField(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value !== 'string') return null;
  const parsed = /^0x[0-9a-f]+$/i.test(value.trim()) ? Number.parseInt(value, 16) : Number(value);
  return Number.isSafeInteger(parsed) ? parsed : null;
}

/** Columns selected for a `LabEvent`; `ts_ms` is epoch milliseconds; the raw record is read apart (raw.ts). */
export const labEventSelect = `id, epoch_ms(ts) AS ts_ms, host, user_name, event_code, channel, action,
  process_guid, process_pid, process_image, process_command_line,
  parent_guid, parent_pid, parent_image, parent_command_line,
  network_protocol, source_ip, source_port, destination_ip, destination_port, destination_hostname,
  dns_query, dns_answers, file_path, registry_key, registry_value, logon_type, logon_source_ip,
  file_id, raw_offset, raw_length`;

type Row = Record<string, unknown>;

/** Rebuilds a `LabEvent` from a row selected with `labEventSelect` and its raw record. */
export function rowToLabEvent(row: Row, rawJson: string): LabEvent {
  const raw = JSON.parse(rawJson) as Record<string, unknown>;
  const str = (key: string) => (row[key] === null || row[key] === undefined ? null : String(row[key]));
  const num = (key: string) => (row[key] === null || row[key] === undefined ? null : Number(row[key]));
  const ref = (prefix: string): ProcessRef | null =>
    str(`${prefix}_image`) === null && str(`${prefix}_guid`) === null && num(`${prefix}_pid`) === null
      ? null
      : {
          guid: str(`${prefix}_guid`) ?? '',
          pid: num(`${prefix}_pid`) ?? 0,
          image: str(`${prefix}_image`) ?? '',
          commandLine: str(`${prefix}_command_line`) ?? '',
        };
  const sourceIp = str('source_ip');
  return {
    id: String(row.id),
    timestamp: new Date(Number(row.ts_ms)).toISOString(),
    host: String(row.host),
    user: str('user_name'),
    eventCode: Number(row.event_code),
    channel: String(row.channel),
    action: String(row.action) as EventAction,
    process: ref('process'),
    parent: ref('parent'),
    network:
      sourceIp === null && str('destination_ip') === null
        ? null
        : {
            protocol: str('network_protocol') ?? 'tcp',
            sourceIp: sourceIp ?? '',
            sourcePort: num('source_port') ?? 0,
            destinationIp: str('destination_ip') ?? '',
            destinationPort: num('destination_port') ?? 0,
            destinationHostname: str('destination_hostname'),
          },
    dns:
      str('dns_query') === null
        ? null
        : { query: str('dns_query') ?? '', answers: JSON.parse(str('dns_answers') ?? '[]') as string[] },
    file: str('file_path') === null ? null : { path: str('file_path') ?? '' },
    registry:
      str('registry_key') === null ? null : { key: str('registry_key') ?? '', value: str('registry_value') },
    logon:
      num('logon_type') === null ? null : { type: num('logon_type') ?? 0, sourceIp: str('logon_source_ip') },
    message: eventMessage(raw),
    raw,
  };
}
