import { isIP } from 'node:net';
import type {
  IndicatorMatch,
  IndicatorType,
  IndicatorVerdict,
  IntelBackend,
  TechniqueInfo,
} from '../capability/backends/types.js';
import { InputError } from '../errors.js';
import type { TrailEntry } from './trails.js';
import { inferIndicatorType, normaliseIndicator, urlHost } from './trails.js';

/** Threat intel over trail feeds and an ATT&CK technique list, all in memory. */
export function createLabIntel(
  entries: readonly TrailEntry[],
  techniques: readonly TechniqueInfo[],
): IntelBackend {
  const byKey = new Map<string, TrailEntry[]>();
  for (const entry of entries) {
    const key = `${entry.type}:${entry.value}`;
    byKey.set(key, [...(byKey.get(key) ?? []), entry]);
  }
  const urlEntries = entries.filter((entry) => entry.type === 'url');
  const techniquesById = new Map(techniques.map((technique) => [technique.id.toUpperCase(), technique]));

  const exact = (type: IndicatorType, value: string) => byKey.get(`${type}:${value}`) ?? [];

  /** The domain and each parent domain with at least two labels, as maltrail matches them. */
  function domainMatches(domain: string): TrailEntry[] {
    const labels = domain.split('.');
    const found: TrailEntry[] = [];
    for (let start = 0; start <= labels.length - 2; start += 1) {
      found.push(...exact('domain', labels.slice(start).join('.')));
    }
    return found;
  }

  function urlMatches(url: string): TrailEntry[] {
    const onPath = urlEntries.filter(
      (entry) =>
        url === entry.value || (url.startsWith(entry.value) && /^[/?#]/.test(url.slice(entry.value.length))),
    );
    const host = urlHost(url);
    const onHost = isIP(host) !== 0 ? exact('ip', host) : domainMatches(host);
    return [...onPath, ...onHost];
  }

  return {
    async lookupIndicator(value, type): Promise<IndicatorVerdict> {
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
      const found =
        resolved === 'domain'
          ? domainMatches(normalised)
          : resolved === 'url'
            ? urlMatches(normalised)
            : exact(resolved, normalised);
      const matches = dedupe(found);
      return {
        value: trimmed,
        type: resolved,
        verdict: matches.length > 0 ? 'malicious' : 'unknown',
        matches,
      };
    },

    async lookupTechnique(id): Promise<TechniqueInfo | null> {
      const normalised = id
        .trim()
        .replace(/^attack\./i, '')
        .replace('/', '.')
        .toUpperCase();
      if (!/^T\d{4}(\.\d{3})?$/.test(normalised)) {
        throw new InputError(`"${id}" is not an ATT&CK technique id such as T1059 or T1059.001`);
      }
      return techniquesById.get(normalised) ?? null;
    },
  };
}

function dedupe(entries: readonly TrailEntry[]): IndicatorMatch[] {
  const seen = new Map<string, IndicatorMatch>();
  for (const entry of entries) {
    const match = { source: entry.source, family: entry.family, reference: entry.reference };
    seen.set(JSON.stringify(match), match);
  }
  return [...seen.values()];
}
