/**
 * Indicator extraction from command lines and telemetry, including the PowerShell
 * `-EncodedCommand` payloads (base64 of UTF-16LE) and base64 literals nested inside them.
 */

export type IndicatorKind = 'ip' | 'domain' | 'url';

export interface Indicator {
  value: string;
  type: IndicatorKind;
}

const maxDecodeDepth = 3;

/** Any unambiguous prefix of `-EncodedCommand` (PowerShell accepts `-e`, `-ec`, `-enc`, …). */
const encodedFlag =
  /(?:^|\s)[-/](?:ec|e(?:n(?:c(?:o(?:d(?:e(?:d(?:c(?:o(?:m(?:m(?:a(?:n(?:d)?)?)?)?)?)?)?)?)?)?)?)?)?)\s+["']?([A-Za-z0-9+/]{8,}={0,2})/gi;
const base64Literal = /frombase64string\(\s*["']([A-Za-z0-9+/]{8,}={0,2})["']\s*\)/gi;

function printableShare(text: string): number {
  if (text.length === 0) return 0;
  let printable = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if ((code >= 0x20 && code < 0x7f) || code === 0x09 || code === 0x0a || code === 0x0d) printable += 1;
  }
  return printable / text.length;
}

/** Decodes base64 as UTF-16LE (PowerShell's choice) or UTF-8, whichever reads as text. */
export function decodeBase64Text(encoded: string): string | null {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length < 4) return null;
  const candidates = [bytes.toString('utf16le'), bytes.toString('utf8')];
  for (const candidate of candidates) {
    if (printableShare(candidate) >= 0.9) return candidate;
  }
  return null;
}

/** Every decoded payload in a command line, outermost first, following nested base64 literals. */
export function decodedPayloads(commandLine: string): string[] {
  const payloads: string[] = [];
  let frontier = [commandLine];
  for (let depth = 0; depth < maxDecodeDepth && frontier.length > 0; depth += 1) {
    const next: string[] = [];
    for (const text of frontier) {
      const patterns = depth === 0 ? [encodedFlag, base64Literal] : [base64Literal, encodedFlag];
      for (const pattern of patterns) {
        for (const match of text.matchAll(pattern)) {
          const decoded = match[1] ? decodeBase64Text(match[1]) : null;
          if (decoded !== null && !payloads.includes(decoded)) {
            payloads.push(decoded);
            next.push(decoded);
          }
        }
      }
    }
    frontier = next;
  }
  return payloads;
}

/** Undoes the cheapest obfuscations: PowerShell backticks, `'a'+'b'` concatenation, cmd carets. */
export function deobfuscate(text: string): string {
  return text
    .replace(/`(?=[a-z0-9])/gi, '')
    .replace(/(['"])\s*\+\s*\1/g, '')
    .replace(/\^(?=[a-z0-9])/gi, '');
}

/** The command line, its decoded payloads and a de-obfuscated copy, as one text to match against. */
export function expandCommandLine(commandLine: string): string {
  const parts = [commandLine, ...decodedPayloads(commandLine)];
  return parts.map((part) => `${part}\n${deobfuscate(part)}`).join('\n');
}

function ipv4Octets(value: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
  if (!match) return null;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

/** True for a routable public address (not private, loopback, link-local, CGNAT, multicast or reserved). */
export function isPublicIp(value: string): boolean {
  const octets = ipv4Octets(value.trim());
  if (octets) {
    const [a = 0, b = 0] = octets;
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    return true;
  }
  const v6 = value.trim().toLowerCase();
  if (!v6.includes(':')) return false;
  if (v6 === '::' || v6 === '::1') return false;
  if (/^(?:fe[89ab]|f[cd]|ff)/.test(v6)) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  return mapped?.[1] ? isPublicIp(mapped[1]) : true;
}

export function isIpAddress(value: string): boolean {
  return ipv4Octets(value) !== null || (value.includes(':') && /^[0-9a-f:.]+$/i.test(value));
}

const internalSuffixes =
  /(?:^|\.)(?:local|lan|internal|intranet|corp|home|localdomain|in-addr\.arpa|ip6\.arpa)$/i;
const commonTopLevelDomains =
  /\.(?:com|net|org|info|biz|io|co|me|ru|cn|su|xyz|top|online|site|club|pw|tk|cc|ws|us|uk|de|fr|nl|in|br|app|dev|cloud|link|live|shop)$/i;

/** True for a domain worth asking threat intel about (dotted, public suffix, not internal). */
export function isPublicDomain(value: string): boolean {
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9-]+(?:\.[a-z0-9-]+)+$/.test(domain)) return false;
  if (isIpAddress(domain)) return false;
  return !internalSuffixes.test(domain) && !domain.startsWith('wpad.');
}

function urlHost(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

function add(list: Indicator[], indicator: Indicator): void {
  if (!list.some((known) => known.value === indicator.value)) list.push(indicator);
}

/** Classifies a hostname or address seen in telemetry as an indicator, or null when internal. */
export function hostIndicator(value: string): Indicator | null {
  const host = value.trim().toLowerCase();
  if (isIpAddress(host)) return isPublicIp(host) ? { value: host, type: 'ip' } : null;
  return isPublicDomain(host) ? { value: host, type: 'domain' } : null;
}

/** URLs, public IPs and domains with a common public suffix, in order of appearance. */
export function extractIndicators(text: string): Indicator[] {
  const found: Indicator[] = [];
  const urls = text.match(/\b(?:https?|ftp):\/\/[^\s'"<>()`;,|]+/gi) ?? [];
  for (const raw of urls) {
    const url = raw.replace(/[.\]}]+$/, '');
    const host = urlHost(url);
    if (!host) continue;
    const hostFinding = hostIndicator(host);
    if (!hostFinding) continue;
    add(found, { value: url, type: 'url' });
    add(found, hostFinding);
  }
  for (const ip of text.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? []) {
    if (isPublicIp(ip)) add(found, { value: ip, type: 'ip' });
  }
  // Not preceded by `[`/`.` nor followed by `.name`: .NET type names (`[System.Net.WebClient]`) are not hosts.
  const bareDomains =
    text.match(/(?<![\w.[-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,10}(?![\w.-])/gi) ?? [];
  for (const domain of bareDomains) {
    if (commonTopLevelDomains.test(domain) && isPublicDomain(domain)) {
      add(found, { value: domain.toLowerCase(), type: 'domain' });
    }
  }
  return found;
}
