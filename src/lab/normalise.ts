import type { EventAction, LabEvent, ProcessRef } from '../capability/backends/types.js';
import { InputError } from '../errors.js';
import { auditProcessGuid } from './audit-lineage.js';

type Raw = Record<string, unknown>;

const sysmonChannel = 'Microsoft-Windows-Sysmon/Operational';
const powershellChannel = 'Microsoft-Windows-PowerShell/Operational';

const sysmonActions: Record<number, EventAction> = {
  1: 'process_start',
  3: 'network_connection',
  5: 'process_end',
  7: 'image_load',
  10: 'process_access',
  11: 'file_create',
  12: 'registry_set',
  13: 'registry_set',
  14: 'registry_set',
  22: 'dns_query',
};

const securityActions: Record<number, EventAction> = {
  4624: 'logon',
  4625: 'logon_failed',
  4688: 'process_start',
};

/**
 * Maps one flat record to a `LabEvent`: the NXLog layout of OTRF Security-Datasets (Sysmon,
 * Security, PowerShell channels) or an evtx_dump record flattened by `flattenWindowsEvent`
 * (`Computer`, `TimeCreated`, `Provider_Name`, event data such as Security 4688 `NewProcessName`).
 * Missing fields become null; throws `InputError` only when the record has no usable timestamp or no host.
 */
export function normaliseEvent(raw: Raw, id: string): LabEvent {
  const eventCode = integer(raw.EventID) ?? 0;
  const family = channelFamily(raw);
  const action = actionFor(family, eventCode);
  const event: LabEvent = {
    id,
    timestamp: timestampOf(raw, id),
    host: hostOf(raw, id),
    user: userOf(raw, family, eventCode),
    eventCode,
    channel: canonicalChannel(family, raw),
    action,
    process: null,
    parent: null,
    network: null,
    dns: null,
    file: null,
    registry: null,
    logon: null,
    message: eventMessage(raw),
    raw,
  };
  if (family === 'sysmon') fillSysmon(event, raw, eventCode);
  if (family === 'security') fillSecurity(event, raw, eventCode);
  return event;
}

/** The event's message: a PowerShell script block, else the rendered `Message`. */
export function eventMessage(raw: Raw): string | null {
  return text(raw.ScriptBlockText) ?? text(raw.Message);
}

type ChannelFamily = 'sysmon' | 'security' | 'powershell' | 'other';

function channelFamily(raw: Raw): ChannelFamily {
  const channel = (text(raw.Channel) ?? '').toLowerCase();
  // `Provider_Name` is where evtx_dump records (flattened) name the provider.
  const source = (text(raw.SourceName) ?? text(raw.Provider_Name) ?? '').toLowerCase();
  if (channel.includes('sysmon') || source === 'microsoft-windows-sysmon') return 'sysmon';
  if (channel === 'security' || source === 'microsoft-windows-security-auditing') return 'security';
  if (channel.includes('powershell')) return 'powershell';
  return 'other';
}

function canonicalChannel(family: ChannelFamily, raw: Raw): string {
  if (family === 'sysmon') return sysmonChannel;
  if (family === 'security') return 'Security';
  return text(raw.Channel) ?? (family === 'powershell' ? powershellChannel : 'unknown');
}

function actionFor(family: ChannelFamily, code: number): EventAction {
  if (family === 'sysmon') return sysmonActions[code] ?? 'other';
  if (family === 'security') return securityActions[code] ?? 'other';
  if (family === 'powershell' && code === 4104) return 'script_block';
  return 'other';
}

// `@timestamp` first: in the datasets it is UTC on every channel, while `EventTime` is local time
// without a zone and `UtcTime` exists on Sysmon records only, so mixing them would skew timelines.
export const timestampFields = ['@timestamp', 'TimeCreated', 'UtcTime', 'EventTime'] as const;

function timestampOf(raw: Raw, id: string): string {
  for (const field of timestampFields) {
    const value = text(raw[field]);
    if (value === null) continue;
    const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(value);
    const parsed = Date.parse(hasZone ? value : `${value.replace(' ', 'T')}Z`);
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString();
  }
  throw new InputError(`event ${id}: no timestamp (expected one of ${timestampFields.join(', ')})`);
}

function hostOf(raw: Raw, id: string): string {
  // `host` in the older datasets is the log collector, not the endpoint, so it is not a fallback.
  const host = (text(raw.Hostname) ?? text(raw.Computer) ?? text(raw.ComputerName))?.trim();
  if (host === undefined)
    throw new InputError(`event ${id}: no host (expected Hostname, Computer or ComputerName)`);
  return host;
}

function userOf(raw: Raw, family: ChannelFamily, code: number): string | null {
  if (family === 'sysmon') return text(raw.User);
  if (family === 'security') {
    const prefix = code === 4624 || code === 4625 ? 'Target' : 'Subject';
    return account(raw[`${prefix}DomainName`], raw[`${prefix}UserName`]);
  }
  return account(raw.Domain, raw.AccountName) ?? text(raw.User);
}

function fillSysmon(event: LabEvent, raw: Raw, code: number): void {
  const guid = text(raw.ProcessGuid) ?? text(raw.SourceProcessGUID) ?? '';
  const image = text(raw.Image) ?? text(raw.SourceImage);
  if (image !== null || guid !== '') {
    event.process = {
      guid,
      pid: integer(raw.ProcessId) ?? integer(raw.SourceProcessId) ?? 0,
      image: image ?? '',
      commandLine: text(raw.CommandLine) ?? '',
    };
  }
  if (code === 1) event.parent = parentRef(raw);
  if (code === 3) {
    event.network = {
      protocol: text(raw.Protocol) ?? 'tcp',
      sourceIp: text(raw.SourceIp) ?? '',
      sourcePort: integer(raw.SourcePort) ?? 0,
      destinationIp: text(raw.DestinationIp) ?? '',
      destinationPort: integer(raw.DestinationPort) ?? 0,
      destinationHostname: text(raw.DestinationHostname),
    };
  }
  if (code === 22) {
    const query = text(raw.QueryName);
    if (query !== null) event.dns = { query, answers: dnsAnswers(text(raw.QueryResults)) };
  }
  const path = code === 7 ? text(raw.ImageLoaded) : text(raw.TargetFilename);
  if (path !== null) event.file = { path };
  const key = text(raw.TargetObject);
  if (key !== null) event.registry = { key, value: text(raw.Details) };
}

function fillSecurity(event: LabEvent, raw: Raw, code: number): void {
  if (code === 4688) {
    const pid = integer(raw.NewProcessId) ?? 0;
    event.process = {
      // The parent's key is found later, among the other creations (see audit-lineage.ts).
      guid: pid > 0 ? auditProcessGuid(event.host, pid, event.timestamp) : '',
      pid,
      image: text(raw.NewProcessName) ?? '',
      commandLine: text(raw.CommandLine) ?? '',
    };
    event.parent = {
      guid: '',
      pid: integer(raw.ProcessId) ?? 0,
      image: text(raw.ParentProcessName) ?? '',
      commandLine: '',
    };
  }
  if (code === 4624 || code === 4625) {
    event.logon = { type: integer(raw.LogonType) ?? 0, sourceIp: text(raw.IpAddress) };
    const image = text(raw.ProcessName);
    if (image !== null)
      event.process = { guid: '', pid: integer(raw.ProcessId) ?? 0, image, commandLine: '' };
  }
}

function parentRef(raw: Raw): ProcessRef | null {
  const guid = text(raw.ParentProcessGuid);
  const image = text(raw.ParentImage);
  if (guid === null && image === null) return null;
  return {
    guid: guid ?? '',
    pid: integer(raw.ParentProcessId) ?? 0,
    image: image ?? '',
    commandLine: text(raw.ParentCommandLine) ?? '',
  };
}

/** Sysmon's `QueryResults`: `type:  5 cname.example;::ffff:192.0.2.1;` → names and addresses. */
function dnsAnswers(results: string | null): string[] {
  if (results === null) return [];
  return results
    .split(';')
    .map((part) =>
      part
        .trim()
        .replace(/^type:\s*\d+\s+/, '')
        .replace(/^::ffff:/i, ''),
    )
    .filter((part) => part !== '' && part !== '-');
}

function account(domain: unknown, name: unknown): string | null {
  const user = text(name);
  if (user === null) return null;
  const domainText = text(domain);
  return domainText === null ? user : `${domainText}\\${user}`;
}

/** The string as recorded, or null for missing, blank and the `-` placeholder Windows writes. */
function text(value: unknown): string | null {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' || trimmed === '-' ? null : value;
}

/** Decimal or `0x` hexadecimal, as strings or numbers; null when absent or unparseable. */
function integer(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) ? value : null;
  const trimmed = text(value)?.trim();
  if (trimmed === undefined) return null;
  const parsed = /^0x[0-9a-f]+$/i.test(trimmed)
    ? Number.parseInt(trimmed, 16)
    : /^-?\d+$/.test(trimmed)
      ? Number.parseInt(trimmed, 10)
      : Number.NaN;
  return Number.isSafeInteger(parsed) ? parsed : null;
}
