import { isIP } from 'node:net';
import type { IndicatorType } from '../capability/backends/types.js';

/** One indicator line of a maltrail-format feed, normalised for lookup. */
export interface TrailEntry {
  type: IndicatorType;
  /** Normalised value: see `normaliseIndicator`. */
  value: string;
  family: string;
  source: string;
  reference: string | null;
}

/**
 * Parses a trail file in the maltrail format: one indicator per line (IP, `IP:port`, domain,
 * URL with or without scheme, or a hex MD5/SHA-1/SHA-256 hash), `#` comments, and
 * `# Reference: <url>` lines that apply to the indicators after them. The family is the file name.
 */
export function parseTrails(text: string, family: string, source: string): TrailEntry[] {
  const entries: TrailEntry[] = [];
  scanTrails(text, (indicator, reference) => {
    const type = inferIndicatorType(indicator);
    entries.push({ type, value: normaliseIndicator(indicator, type), family, source, reference });
  });
  return entries;
}

/**
 * Calls `visit` with the first token of each indicator line and the reference in force, without
 * building entry objects: what loading a million-line trail set needs. A Buffer is decoded line by
 * line, so the tokens kept by an index do not pin the whole file in memory.
 */
export function scanTrails(
  text: string | Buffer,
  visit: (indicator: string, reference: string | null) => void,
): void {
  let reference: string | null = null;
  let start = 0;
  while (start < text.length) {
    let end = typeof text === 'string' ? text.indexOf('\n', start) : text.indexOf(10, start);
    if (end === -1) end = text.length;
    const line = (
      typeof text === 'string' ? text.slice(start, end) : text.toString('utf8', start, end)
    ).trim();
    start = end + 1;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^#\s*Reference:\s*(\S.*)$/i.exec(line);
      if (match?.[1]) reference = match[1].trim();
      continue;
    }
    const space = line.search(/\s/);
    visit(space === -1 ? line : line.slice(0, space), reference);
  }
}

const hashPattern = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** Guesses the indicator type from its shape; anything that is not an IP, URL or hash is a domain. */
export function inferIndicatorType(value: string): IndicatorType {
  const refanged = refang(value);
  if (hashPattern.test(refanged)) return 'hash';
  if (isIP(stripPort(refanged)) !== 0 || isIP(refanged) !== 0) return 'ip';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(refanged) || refanged.includes('/')) return 'url';
  return 'domain';
}

/**
 * Lower-cases and refangs (`hxxp`, `[.]`); IPs lose any `:port`, domains any trailing dot,
 * URLs their scheme and trailing slash, so feed lines and lookups compare as plain strings.
 */
export function normaliseIndicator(value: string, type: IndicatorType): string {
  const refanged = refang(value).toLowerCase();
  if (type === 'ip') return isIP(refanged) !== 0 ? refanged : stripPort(refanged);
  if (type === 'domain') return refanged.replace(/\.$/, '');
  if (type === 'url') return refanged.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/\/+$/, '');
  return refanged;
}

/** The host part of a normalised URL (`cdn.example.com/path` → `cdn.example.com`). */
export function urlHost(normalisedUrl: string): string {
  const authority = normalisedUrl.split(/[/?#]/)[0] ?? '';
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  return stripPort(host);
}

/** `host:port` → `host`; IPv6 addresses (several colons) are left alone. */
function stripPort(value: string): string {
  return /^([^:]+):\d{1,5}$/.exec(value)?.[1] ?? value;
}

function refang(value: string): string {
  return value
    .trim()
    .replace(/\[\.\]|\(\.\)|\{\.\}/g, '.')
    .replace(/^hxxp/i, 'http')
    .replace(/\[:\]\/\//g, '://');
}
