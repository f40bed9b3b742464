import { extractIndicators } from '../model/index.js';
import {
  type ExtractedIndicators,
  indicatorsSchema,
  type LogSummary,
  MAX_SUMMARY_CHARS,
  searchableText,
} from './subtask-schemas.js';

function unique(values: Iterable<string>, limit = 100): string[] {
  return [...new Set(values)].slice(0, limit);
}

const hashPattern = /\b(?:[a-f0-9]{64}|[a-f0-9]{40}|[a-f0-9]{32})\b/gi;
const emailPattern = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const domainUserPattern = /\b([A-Za-z][\w-]{0,14})\\([A-Za-z][\w.$-]{0,63})\b/g;
const userFieldPattern =
  /"?\b(?:user(?:_?name)?|account(?:_?name)?|target_?user(?:_?name)?|subject_?user(?:_?name)?)"?\s*[:=]\s*"?([A-Za-z][\w.$@\\-]{0,63})/gi;
const hostFieldPattern =
  /"?\b(?:host(?:_?name)?|computer(?:_?name)?|workstation(?:_?name)?|device(?:_?name)?)"?\s*[:=]\s*"?([A-Za-z][\w.-]{0,62})/gi;
const uncPattern = /\\\\([A-Za-z][\w-]{0,62})\\/g;

/** Regex extraction with no model: what the sub-task gives with the offline analyst or when the API is down. */
export function extractIndicatorsLocally(text: string): ExtractedIndicators {
  const plain = searchableText(text);
  const found = extractIndicators(plain);
  const users = [
    ...[...plain.matchAll(domainUserPattern)].map((match) => `${match[1]}\\${match[2]}`),
    ...[...plain.matchAll(userFieldPattern)].map((match) => match[1] ?? ''),
  ].filter((user) => user !== '' && !/^(?:null|none|n\/a|-)$/i.test(user));
  const hosts = [
    ...[...plain.matchAll(hostFieldPattern)].map((match) => match[1] ?? ''),
    ...[...plain.matchAll(uncPattern)].map((match) => match[1] ?? ''),
  ].filter((host) => host !== '');
  return indicatorsSchema.parse({
    ips: unique(found.filter((item) => item.type === 'ip').map((item) => item.value)),
    domains: unique(found.filter((item) => item.type === 'domain').map((item) => item.value)),
    urls: unique(found.filter((item) => item.type === 'url').map((item) => item.value)),
    hashes: unique((plain.match(hashPattern) ?? []).map((hash) => hash.toLowerCase())),
    users: unique(users),
    hosts: unique(hosts),
    emails: unique(plain.match(emailPattern) ?? []),
  });
}

const notable =
  /\b(?:fail(?:ed|ure)?|denied|error|alert|block(?:ed)?|malicious|suspicious|encoded|-enc\b|mshta|rundll32|regsvr32|certutil|bitsadmin|powershell|wscript|cscript|psexec|mimikatz|lsass|admin|privilege|logon|4624|4625|4688|4720|4732|new user|schtasks|http[s]?:|download|invoke-|iex\b)/i;
const timePattern = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/;
const hostInLine = /"?\b(?:host(?:_?name)?|computer(?:_?name)?)"?\s*[:=]\s*"?([A-Za-z][\w.-]{0,62})/i;

/** Lines of a log excerpt: its own lines, or one JSON line per element of an array. */
function linesOf(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      const records = Array.isArray(value)
        ? value
        : Object.values(value as object).find((field) => Array.isArray(field) && field.length > 0);
      if (Array.isArray(records)) return records.map((record) => JSON.stringify(record));
    } catch {
      // Not JSON after all: summarise it as text.
    }
  }
  return trimmed.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** A heuristic summary: size, time span, hosts, and the lines that carry security-relevant terms. */
export function summariseLocally(text: string, focus?: string): LogSummary {
  const lines = linesOf(text);
  const focusTerms = (focus ?? '')
    .toLowerCase()
    .split(/\W+/)
    .filter((term) => term.length > 3);
  const times = lines.map((line) => timePattern.exec(line)?.[0]).filter((time): time is string => !!time);
  const hosts = unique(
    lines.map((line) => hostInLine.exec(line)?.[1] ?? '').filter((host) => host !== ''),
    20,
  );
  const relevant = lines.filter(
    (line) => notable.test(line) || focusTerms.some((term) => line.toLowerCase().includes(term)),
  );
  const keyEvents = relevant.slice(0, 20).map((line) => {
    const time = timePattern.exec(line)?.[0];
    const host = hostInLine.exec(line)?.[1];
    return {
      ...(time ? { time } : {}),
      ...(host ? { host } : {}),
      description: line.replace(/\s+/g, ' ').trim().slice(0, 300),
    };
  });
  const sorted = [...times].sort();
  const span = sorted.length > 0 ? `, from ${sorted[0]} to ${sorted.at(-1)}` : '';
  const summary = [
    `${lines.length} record(s)${span}`,
    hosts.length > 0 ? `hosts: ${hosts.slice(0, 10).join(', ')}` : null,
    `${relevant.length} record(s) carry security-relevant terms${focus ? ` or the focus terms` : ''}`,
    'heuristic summary (no model): read the key events, not the summary, for detail',
  ]
    .filter((part): part is string => part !== null)
    .join('; ');
  return { summary: summary.slice(0, MAX_SUMMARY_CHARS), keyEvents };
}
