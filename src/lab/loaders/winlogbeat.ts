import type { FlatEvent } from '../flatten.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** True for a Winlogbeat record: 6.x (`event_data`, `event_id` at the top) or 7.x and later (`winlog`). */
export function isWinlogbeatRecord(record: Json): boolean {
  if (isObject(record.winlog)) return true;
  return isObject(record.event_data) && record.event_id !== undefined;
}

/**
 * Maps a Winlogbeat record (some Security-Datasets archives were recorded with it) to the flat
 * NXLog-style keys the normaliser and the Sigma engine read: event data fields at the top, plus
 * `EventID`, `Channel`, `Hostname`, `SourceName`, `@timestamp` and `Message`.
 */
export function flattenWinlogbeat(record: Json): FlatEvent {
  const winlog = isObject(record.winlog) ? record.winlog : record;
  const flat: FlatEvent = {};
  if (isObject(winlog.event_data)) Object.assign(flat, winlog.event_data);
  if (isObject(winlog.user_data)) Object.assign(flat, winlog.user_data);
  flat.EventID = winlog.event_id;
  flat.Channel = winlog.channel ?? winlog.log_name ?? record.log_name;
  flat.Hostname = winlog.computer_name ?? record.computer_name;
  flat.SourceName = winlog.provider_name ?? winlog.source_name ?? record.source_name;
  flat['@timestamp'] = record['@timestamp'];
  if (typeof record.message === 'string') flat.Message = record.message;
  const user = isObject(winlog.user) ? winlog.user : undefined;
  if (user && flat.AccountName === undefined) {
    flat.AccountName = user.name;
    flat.Domain = user.domain;
  }
  if (winlog.record_id !== undefined || winlog.record_number !== undefined) {
    flat.RecordNumber = winlog.record_id ?? winlog.record_number;
  }
  return flat;
}
