import { isIP, isIPv4 } from 'node:net';
import type {
  IndicatorMatch,
  IndicatorMatchKind,
  IndicatorType,
  IndicatorVerdict,
} from '../../capability/backends/types.js';
import { InputError } from '../../errors.js';
import { inferIndicatorType, normaliseIndicator, urlHost } from '../trails.js';
import { ipv4ToNumber, networkOf, parseIpv4Cidr } from './cidr.js';
import type { HashTable } from './hash-table.js';
import { createHashTable } from './hash-table.js';

/** Where an indicator was listed: one feed file (family) under one reference. */
export interface IndicatorOrigin {
  source: string;
  family: string;
  category: string | null;
  reference: string | null;
}

/** In-memory indicator index: one table per indicator shape, so every lookup is a few probes. */
export interface IndicatorIndex {
  /** Interns an origin and returns its id for `add`. */
  origin(origin: IndicatorOrigin): number;
  /** Adds one raw feed token (IP, `IP:port`, CIDR, domain, `.tld`, URL, `/path`, hash); false when unusable. */
  add(raw: string, originId: number): boolean;
  lookup(value: string, type?: IndicatorType): IndicatorVerdict;
  /** Distinct indicator values indexed. */
  readonly size: number;
}

interface Hit {
  origins: readonly number[];
  matched: string;
  matchedOn: IndicatorMatchKind;
}

/** Creates an empty index. */
export function createIndicatorIndex(): IndicatorIndex {
  const origins: IndicatorOrigin[] = [];
  const originIds = new Map<string, number>();
  const ips = createHashTable();
  const domains = createHashTable();
  const urls = createHashTable();
  const paths = createHashTable();
  const hashes = createHashTable();
  // Prefix length → network address → origins; a trail set has a handful of prefix lengths.
  const cidrs = new Map<number, Map<number, number[]>>();
  let cidrCount = 0;

  function addUrl(normalised: string, id: number): void {
    const pathStart = normalised.search(/[/?#]/);
    if (pathStart === 0) paths.add(normalised, id);
    else if (pathStart > 0) urls.add(normalised, id);
    else {
      const host = urlHost(normalised);
      if (isIP(host) !== 0) ips.add(canonicalIp(host), id);
      else domains.add(host.replace(/\.$/, ''), id);
    }
  }

  function probe(table: HashTable, key: string, matchedOn: IndicatorMatchKind, hits: Hit[]): void {
    const origins = table.get(key);
    if (origins !== undefined) hits.push({ origins, matched: key, matchedOn });
  }

  function ipHits(ip: string, hits: Hit[], on: IndicatorMatchKind = 'exact'): void {
    probe(ips, ip, on, hits);
    const numeric = ipv4ToNumber(ip);
    if (numeric === null) return;
    for (const [bits, ranges] of cidrs) {
      const network = networkOf(numeric, bits);
      const origins = ranges.get(network);
      if (origins !== undefined) {
        hits.push({ origins, matched: `${numberToIpv4(network)}/${bits}`, matchedOn: 'cidr' });
      }
    }
  }

  /** The domain, its parents with two or more labels, and `.suffix` entries (maltrail's TLD trails). */
  function domainHits(domain: string, hits: Hit[], on: IndicatorMatchKind = 'exact'): void {
    const labels = domain.split('.');
    for (let start = 0; start < labels.length; start += 1) {
      const suffix = labels.slice(start).join('.');
      if (start > 0) probe(domains, `.${suffix}`, 'parent_domain', hits);
      if (start <= labels.length - 2) probe(domains, suffix, start === 0 ? on : 'parent_domain', hits);
    }
  }

  function urlHits(url: string, hits: Hit[]): void {
    const clean = url.replace(/#.*$/, '').replace(/\/+$/, '');
    probe(urls, clean, 'exact', hits);
    for (let index = 1; index < clean.length; index += 1) {
      const char = clean[index];
      if (char === '/' || char === '?') probe(urls, clean.slice(0, index), 'url_prefix', hits);
    }
    const pathStart = clean.search(/[/?]/);
    if (pathStart !== -1) {
      const path = clean.slice(pathStart);
      probe(paths, path, 'url_path', hits);
      for (let index = 1; index < path.length; index += 1) {
        const char = path[index];
        if (char === '/' || char === '?') probe(paths, path.slice(0, index), 'url_path', hits);
      }
    }
    const host = urlHost(clean);
    if (isIP(host) !== 0) ipHits(canonicalIp(host), hits, 'url_host');
    else if (host !== '') domainHits(host, hits, 'url_host');
  }

  function toMatches(hits: readonly Hit[]): IndicatorMatch[] {
    const seen = new Set<string>();
    const matches: IndicatorMatch[] = [];
    for (const hit of hits) {
      for (const id of hit.origins) {
        const key = `${id}\u0000${hit.matched}`;
        const origin = origins[id];
        if (seen.has(key) || !origin) continue;
        seen.add(key);
        matches.push({ ...origin, matched: hit.matched, matchedOn: hit.matchedOn });
      }
    }
    return matches;
  }

  return {
    get size() {
      return ips.size + domains.size + urls.size + paths.size + hashes.size + cidrCount;
    },

    origin(origin) {
      const key = JSON.stringify([origin.source, origin.family, origin.category, origin.reference]);
      let id = originIds.get(key);
      if (id === undefined) {
        id = origins.push(origin) - 1;
        originIds.set(key, id);
      }
      return id;
    },

    add(raw, originId) {
      // Fast path for the common, already-normal lines; full parsing (refanging, ports, URLs) otherwise.
      if (plainIpv4.test(raw) && isIPv4(raw)) {
        ips.add(raw, originId);
        return true;
      }
      if (plainDomain.test(raw)) {
        domains.add(raw, originId);
        return true;
      }
      const withPort = ipv4WithPort.exec(raw)?.[1];
      if (withPort !== undefined && isIPv4(withPort)) {
        ips.add(withPort, originId);
        return true;
      }
      const bracketed = bracketedIpv6.exec(raw)?.[1];
      if (bracketed !== undefined && isIP(bracketed) === 6) {
        ips.add(canonicalIp(bracketed), originId);
        return true;
      }
      const range = raw.includes('/') ? parseIpv4Cidr(raw) : null;
      if (range) {
        let ranges = cidrs.get(range.bits);
        if (!ranges) {
          ranges = new Map();
          cidrs.set(range.bits, ranges);
        }
        const listed = ranges.get(range.network);
        if (!listed) {
          ranges.set(range.network, [originId]);
          cidrCount += 1;
        } else if (!listed.includes(originId)) listed.push(originId);
        return true;
      }
      if (raw.startsWith('.') && !raw.includes('/')) {
        domains.add(normaliseIndicator(raw, 'domain'), originId);
        return true;
      }
      const type = inferIndicatorType(raw);
      const value = normaliseIndicator(raw, type);
      if (value === '') return false;
      if (type === 'ip') ips.add(canonicalIp(value), originId);
      else if (type === 'hash') hashes.add(value, originId);
      else if (type === 'url') addUrl(value, originId);
      else domains.add(value, originId);
      return true;
    },

    lookup(value, type) {
      const trimmed = value.trim();
      if (trimmed === '') throw new InputError('the indicator value is empty');
      const inferred = inferIndicatorType(trimmed);
      const resolved = type ?? inferred;
      if ((resolved === 'ip' || resolved === 'hash') && inferred !== resolved) {
        throw new InputError(
          `"${trimmed}" is not ${resolved === 'ip' ? 'an IP address' : 'an MD5, SHA-1 or SHA-256 hash'}`,
        );
      }
      const normalised = normaliseIndicator(trimmed, resolved);
      const hits: Hit[] = [];
      if (resolved === 'ip') ipHits(canonicalIp(normalised), hits);
      else if (resolved === 'hash') probe(hashes, normalised, 'exact', hits);
      else if (resolved === 'url') urlHits(normalised, hits);
      else domainHits(normalised, hits);
      const matches = toMatches(hits);
      const verdict =
        matches.length === 0
          ? 'unknown'
          : matches.every((match) => match.category === 'suspicious')
            ? 'suspicious'
            : 'malicious';
      return { value: trimmed, type: resolved, verdict, matches };
    },
  };
}

const plainIpv4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
// Lower-case labels with at least one letter-bearing label and no port, path, brackets or trailing dot.
const plainDomain = /^(?=.*[a-z_-])[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/;

const bracketedIpv6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i;

/** IPv6 in its one compressed lower-case spelling (`0:0:0:0:0:ffff:2d3e:c649` → `::ffff:2d3e:c649`); IPv4 as is. */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
