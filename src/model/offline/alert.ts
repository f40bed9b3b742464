import { ProviderError } from '../../errors.js';
import type { DataBlock, Message } from '../provider.js';
import type { AlertFacts, Severity, SkillEntry } from './types.js';

const severities: readonly Severity[] = ['informational', 'low', 'medium', 'high', 'critical'];
const maxFieldLength = 8192;

type JsonObject = Record<string, unknown>;

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads `a.b.c` as nested keys, or as a literal dotted key (ECS documents come both ways). */
function lookup(source: JsonObject, path: string): unknown {
  if (path in source) return source[path];
  let current: unknown = source;
  for (const key of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

function text(source: JsonObject, paths: readonly string[]): string | null {
  for (const path of paths) {
    const value = lookup(source, path);
    if (typeof value === 'string' && value.trim() !== '') return value.slice(0, maxFieldLength);
  }
  return null;
}

function integer(source: JsonObject, paths: readonly string[]): number | null {
  for (const path of paths) {
    const value = lookup(source, path);
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && /^(?:\d+|0x[0-9a-f]+)$/i.test(value.trim())) return Number(value.trim());
  }
  return null;
}

/** Flat Sysmon/NXLog keys, evtx_dump `Event.EventData`, and ECS-style nested keys, in one view. */
/**
 * The command line of the PowerShell host behind a pipeline event (Windows PowerShell 4103 and 800):
 * `ContextInfo` (or `HostApplication`) carries `Host Application = <command line>`.
 */
function hostApplication(event: JsonObject): { image: string | null; commandLine: string | null } {
  const direct = text(event, ['HostApplication']);
  const context = text(event, ['ContextInfo']);
  const commandLine =
    direct ?? (context ? (/Host Application\s*=\s*([^\r\n]+)/i.exec(context)?.[1]?.trim() ?? null) : null);
  if (!commandLine) return { image: null, commandLine: null };
  const program = /^\s*(?:"([^"]+)"|(\S+))/.exec(commandLine);
  const image = program?.[1] ?? program?.[2] ?? null;
  // A host named without its extension (`powershell -enc …`) still names the program.
  return { image: image && !/\.[a-z0-9]{2,4}$/i.test(image) ? `${image}.exe` : image, commandLine };
}

function eventView(alert: JsonObject): JsonObject {
  const event = isRecord(alert.event) ? alert.event : {};
  const nested = lookup(event, 'Event.EventData');
  return isRecord(nested) ? { ...event, ...nested } : event;
}

function techniquesFromTags(alert: JsonObject): string[] {
  const rule = isRecord(alert.rule) ? alert.rule : {};
  const tags = Array.isArray(rule.tags) ? rule.tags : Array.isArray(alert.tags) ? alert.tags : [];
  const found: string[] = [];
  for (const tag of tags) {
    const match = typeof tag === 'string' ? /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(tag.trim()) : null;
    const id = match?.[1]?.toUpperCase();
    if (id && !found.includes(id)) found.push(id);
  }
  return found;
}

function dataBlocks(messages: readonly Message[]): DataBlock[] {
  const first = messages[0];
  if (first?.role !== 'user') return [];
  return first.content.filter((block): block is DataBlock => block.type === 'data');
}

/** The alert of `messages[0]`, as facts. Throws when the loop sent no alert block at all. */
export function readAlert(messages: readonly Message[]): AlertFacts {
  const block = dataBlocks(messages).find((candidate) => candidate.label === 'alert');
  if (!block) throw new ProviderError('offline analyst: the first user message carries no alert data block');
  const alert = isRecord(block.value) ? block.value : {};
  const event = eventView(alert);
  const host = hostApplication(event);
  const severity = typeof alert.severity === 'string' ? alert.severity.toLowerCase() : '';
  return {
    ref: block.ref,
    id: text(alert, ['id']) ?? 'unknown',
    title: text(alert, ['title']) ?? '',
    severity: severities.find((known) => known === severity) ?? 'medium',
    // The collector's @timestamp before Sysmon's UtcTime, as the lab files events: the two can disagree.
    time: text(alert, ['time', '@timestamp']) ?? text(event, ['@timestamp', 'TimeCreated', 'UtcTime']),
    host:
      text(alert, ['host', 'host.name']) ??
      text(event, ['Hostname', 'Computer', 'host.name', 'host.hostname']),
    user: text(alert, ['user', 'user.name']) ?? text(event, ['User', 'SubjectUserName', 'user.name']),
    image:
      text(event, [
        'Image',
        'NewProcessName',
        'SourceImage',
        'ProcessName',
        'process.executable',
        'process.name',
      ]) ?? host.image,
    commandLine: text(event, ['CommandLine', 'process.command_line', 'ScriptBlockText']) ?? host.commandLine,
    processGuid: text(event, ['ProcessGuid', 'SourceProcessGUID', 'SourceProcessGuid', 'process.entity_id']),
    processId: integer(event, [
      'ProcessId',
      'NewProcessId',
      'SourceProcessId',
      'ExecutionProcessID',
      'process.pid',
    ]),
    parentImage: text(event, ['ParentImage', 'ParentProcessName', 'process.parent.executable']),
    parentCommandLine: text(event, ['ParentCommandLine', 'process.parent.command_line']),
    parentProcessGuid: text(event, ['ParentProcessGuid', 'process.parent.entity_id']),
    eventId: integer(event, ['EventID', 'event.code', 'winlog.event_id']),
    techniques: techniquesFromTags(alert),
    targetObject: text(event, ['TargetObject', 'TargetFilename', 'registry.path', 'file.path']),
    details: text(event, ['Details', 'registry.data.strings']),
    targetImage: text(event, ['TargetImage']),
    imageLoaded: text(event, ['ImageLoaded', 'dll.path']),
    pipeName: text(event, ['PipeName', 'file.name']),
    destination: text(event, [
      'DestinationIp',
      'DestinationHostname',
      'destination.ip',
      'destination.domain',
    ]),
    queryName: text(event, ['QueryName', 'dns.question.name']),
  };
}

/**
 * The skill index of `messages[0]` (names and descriptions only), possibly empty: a map of name to
 * description, or the list of `{ name, description }` that runs started before it was a map hold.
 */
export function readSkillIndex(messages: readonly Message[]): SkillEntry[] {
  const block = dataBlocks(messages).find((candidate) => candidate.label === 'skills');
  if (!block) return [];
  const entries = Array.isArray(block.value)
    ? block.value.flatMap((entry) => (isRecord(entry) ? [[entry.name, entry.description]] : []))
    : isRecord(block.value)
      ? Object.entries(block.value)
      : [];
  const skills: SkillEntry[] = [];
  for (const [name, description] of entries) {
    if (typeof name === 'string' && name !== '')
      skills.push({ name, description: typeof description === 'string' ? description : '' });
  }
  return skills;
}
