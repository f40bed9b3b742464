import type { IntelBackend, TechniqueInfo } from '../capability/backends/types.js';
import { createAttackReference, createIndicatorIndex, createIntelBackend, toDetail } from './intel/index.js';
import type { TrailEntry } from './trails.js';

/**
 * Threat intel over already-parsed trail entries and a short technique list, all in memory (the
 * embedded sample lab). Configured sources (maltrail, own feeds, the STIX bundle): `createIntelFromSources`.
 */
export function createLabIntel(
  entries: readonly TrailEntry[],
  techniques: readonly TechniqueInfo[],
): IntelBackend {
  const index = createIndicatorIndex();
  for (const entry of entries) {
    const origin = index.origin({
      source: entry.source,
      family: entry.family,
      category: null,
      reference: entry.reference,
    });
    index.add(entry.value, origin);
  }
  const reference = createAttackReference(
    { techniques: techniques.map(toDetail), groups: [], software: [] },
    'sample-techniques',
  );
  return createIntelBackend(
    () => index,
    () => reference,
  );
}
