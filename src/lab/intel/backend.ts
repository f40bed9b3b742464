import { resolve } from 'node:path';
import type { IntelBackend, TechniqueDetail } from '../../capability/backends/types.js';
import { InputError } from '../../errors.js';
import type { AttackReference, LoadedAttack } from './attack.js';
import { loadAttackReference } from './attack.js';
import type { IndicatorIndex } from './indicators.js';
import type { IntelSources, LoadedIndicators } from './sources.js';
import { defaultIntelSources, loadIndicators } from './sources.js';

/** An intel backend over an indicator index and an ATT&CK reference, each obtained on first use. */
export function createIntelBackend(
  indicators: () => IndicatorIndex,
  attack: () => AttackReference,
): IntelBackend {
  return {
    async lookupIndicator(value, type) {
      return indicators().lookup(value, type);
    },

    async lookupTechnique(id) {
      return attack().technique(normaliseTechniqueId(id));
    },

    async findTechnique(name) {
      const found = attack().techniquesNamed(name);
      if (found.length > 1) {
        throw new InputError(
          `"${name}" names several techniques: ${found.map(describeTechnique).join('; ')}; look one up by id`,
        );
      }
      return found[0] ?? null;
    },

    async lookupGroup(query) {
      return attack().group(query);
    },

    async lookupSoftware(query) {
      return attack().software(query);
    },

    async attackSource() {
      return attack().source;
    },
  };
}

// One load per process per source set: the trail index is large and several servers may share it.
const indicatorLoads = new Map<string, LoadedIndicators>();
const attackLoads = new Map<string, LoadedAttack>();

/** Loads (once per process) and returns the indicator index for these feed directories. */
export function sharedIndicators(sources: Pick<IntelSources, 'trailDirs' | 'feedDirs'>): LoadedIndicators {
  const cacheKey = JSON.stringify([
    sources.trailDirs.map((dir) => resolve(dir)),
    sources.feedDirs.map((dir) => resolve(dir)),
  ]);
  let loaded = indicatorLoads.get(cacheKey);
  if (!loaded) {
    loaded = loadIndicators(sources);
    indicatorLoads.set(cacheKey, loaded);
  }
  return loaded;
}

/** Loads (once per process) and returns the ATT&CK reference for this bundle path. */
export function sharedAttack(bundlePath: string | undefined): LoadedAttack {
  const cacheKey = bundlePath === undefined ? '' : resolve(bundlePath);
  let loaded = attackLoads.get(cacheKey);
  if (!loaded) {
    loaded = loadAttackReference(bundlePath);
    attackLoads.set(cacheKey, loaded);
  }
  return loaded;
}

/**
 * Intel from configured sources, loaded lazily: the trails on the first indicator lookup, the
 * ATT&CK bundle on the first ATT&CK lookup.
 */
export function createIntelFromSources(sources: IntelSources = defaultIntelSources()): IntelBackend {
  return createIntelBackend(
    () => sharedIndicators(sources).index,
    () => sharedAttack(sources.attackBundle).reference,
  );
}

/** `attack.t1059.001`, `T1059/001`, ` t1059.001 ` → `T1059.001`; InputError for anything else. */
export function normaliseTechniqueId(id: string): string {
  const normalised = id
    .trim()
    .replace(/^attack\./i, '')
    .replace('/', '.')
    .toUpperCase();
  if (!/^T\d{4}(\.\d{3})?$/.test(normalised)) {
    throw new InputError(`"${id}" is not an ATT&CK technique id such as T1059 or T1059.001`);
  }
  return normalised;
}

function describeTechnique(technique: TechniqueDetail): string {
  return `${technique.id} (${technique.name})`;
}
