import type { EventAction, LabEvent, ProcessRef } from '../../capability/backends/types.js';
import { bareGuid, shortHost } from '../events.js';
import type { FlatEvent } from '../flatten.js';

/** What the loader knows about an event beyond its normalised form. */
export interface EventProvenance {
  seq: number;
  fileId: number;
  line: number;
  /** The archive member (or file name) the line belongs to. */
  entry: string;
  /** The flattened record as JSON text (for flat records, the source line as recorded). */
  rawJson: string;
  flat: FlatEvent;
}

/** One event's normalised columns as a JSON line for the bulk reader; the raw record is staged apart. */
export function eventLine(event: LabEvent, from: EventProvenance): string {
  const { flat } = from;
  const isAccess = event.action === 'process_access';
  const targetGuid = isAccess ? stringField(flat.TargetProcessGUID ?? flat.TargetProcessGuid) : null;
  const network = event.network;
  const columns: Record<string, string | number | null | undefined> = {
    seq: from.seq,
    id: event.id,
    file_id: from.fileId,
    line: from.line,
    entry: from.entry,
    ts: Date.parse(event.timestamp),
    host: event.host,
    host_key: shortHost(event.host),
    user_name: event.user,
    user_key: event.user === null ? null : userKey(event.user),
    event_code: event.eventCode,
    channel: event.channel,
    action: event.action,
    ...processColumns('process', event.process),
    ...processColumns('parent', event.parent),
    network_protocol: network?.protocol,
    source_ip: network?.sourceIp,
    source_port: network?.sourcePort,
    destination_ip: network?.destinationIp,
    destination_port: network?.destinationPort,
    destination_hostname: network?.destinationHostname,
    dns_query: event.dns?.query,
    dns_answers: event.dns ? JSON.stringify(event.dns.answers) : null,
    file_path: event.file?.path,
    registry_key: event.registry?.key,
    registry_value: event.registry?.value,
    logon_type: event.logon?.type,
    logon_source_ip: event.logon?.sourceIp,
    target_guid: targetGuid,
    target_key: targetGuid ? bareGuid(targetGuid) : null,
    target_pid: isAccess ? integerField(flat.TargetProcessId) : null,
    target_image: isAccess ? stringField(flat.TargetImage) : null,
    granted_access: isAccess ? stringField(flat.GrantedAccess) : null,
    image_loaded: event.action === 'image_load' ? stringField(flat.ImageLoaded) : null,
    message: event.message,
  };
  return `${JSON.stringify(columns)}\n`;
}

/**
 * The raw record as one line of the raw staging file, read back as a single CSV column whose
 * delimiter is U+0001. Valid JSON holds control characters only escaped, or (CR) as whitespace
 * between tokens, where a space means the same and cannot end the CSV line early.
 */
export function rawLine(rawJson: string): string {
  let line = rawJson;
  if (line.includes('\u0001')) line = line.replaceAll('\u0001', '\\u0001');
  if (line.includes('\r')) line = line.replaceAll('\r', ' ');
  return `${line}\n`;
}

/** The account part of `DOMAIN\\name`, lower-cased: what a bare user filter compares with. */
export function userKey(user: string): string {
  const lower = user.toLowerCase();
  return lower.slice(lower.lastIndexOf('\\') + 1);
}

function processColumns(
  prefix: 'process' | 'parent',
  ref: ProcessRef | null,
): Record<string, string | number | null> {
  const guid = ref?.guid || null;
  return {
    [`${prefix}_guid`]: guid,
    [`${prefix}_key`]: guid ? bareGuid(guid) : null,
    [`${prefix}_pid`]: ref ? ref.pid : null,
    [`${prefix}_image`]: ref ? ref.image : null,
    [`${prefix}_command_line`]: ref ? ref.commandLine : null,
  };
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

/** Columns selected for a `LabEvent`; `ts_ms` is epoch milliseconds. */
export const labEventSelect = `id, epoch_ms(ts) AS ts_ms, host, user_name, event_code, channel, action,
  process_guid, process_pid, process_image, process_command_line,
  parent_guid, parent_pid, parent_image, parent_command_line,
  network_protocol, source_ip, source_port, destination_ip, destination_port, destination_hostname,
  dns_query, dns_answers, file_path, registry_key, registry_value, logon_type, logon_source_ip, message, raw`;

type Row = Record<string, unknown>;

/** Rebuilds a `LabEvent` from a row selected with `labEventSelect`. */
export function rowToLabEvent(row: Row): LabEvent {
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
    message: str('message'),
    raw: JSON.parse(String(row.raw)) as Record<string, unknown>,
  };
}
