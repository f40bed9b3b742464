/** Threat intel for the lab: indicator feeds (maltrail and the user's own) and the ATT&CK reference. */
export type { AttackReference, LoadedAttack } from './attack.js';
export { createAttackReference, loadAttackReference, toDetail } from './attack.js';
export {
  createIntelBackend,
  createIntelFromSources,
  normaliseTechniqueId,
  sharedAttack,
  sharedIndicators,
} from './backend.js';
export type { IndicatorIndex, IndicatorOrigin } from './indicators.js';
export { createIndicatorIndex } from './indicators.js';
export type { IntelConfig, IntelSources, LoadedIndicators } from './sources.js';
export {
  defaultIntelSources,
  intelSourcesFrom,
  loadIndicators,
  sampleFeedDir,
  sampleTechniquesPath,
} from './sources.js';
export type { AttackCatalogue } from './stix.js';
export { readAttackBundle } from './stix.js';
