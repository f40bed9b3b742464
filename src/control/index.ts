export type { ReceiptCheck } from './approvals.js';
export { decideApproval, hashArgs, isExpired, redeemReceipt, requestApproval } from './approvals.js';
export type { AssetRegistry, Criticality } from './assets.js';
export { criticalities, loadAssets, sampleInventoryPath } from './assets.js';
export type { Clearance, Dlp, DlpConfig, LeakRule, Redaction, Sink } from './dlp.js';
export {
  builtinLeakRules,
  clearanceRank,
  clearances,
  createDlp,
  defaultDlpConfig,
  luhnValid,
  personalDataRules,
  sinkLabel,
} from './dlp.js';
export type { InjectionClassifier, InjectionHit } from './injection.js';
export {
  classifyAll,
  createPatternClassifier,
  decodePayloads,
  detectInjection,
  untrustedFields,
} from './injection.js';
export type { KillScope, KillSwitch, KillSwitchBoard, KillTarget } from './killswitch.js';
export { describeScope, findKillSwitch, killSwitchPath, openKillSwitchBoard } from './killswitch.js';
export type { ActionCounts, Decision, Policy, PolicyDecision, PolicyOptions, ToolRequest } from './policy.js';
export { createPolicy, killReason, matchesToolPattern } from './policy.js';
export type { Leaf, ResultLabels } from './provenance.js';
export { bundledTrustedFields, labelResult, leavesOf, partitionLeaves, pathMatches } from './provenance.js';
export type { RiskReview, ToolExposure } from './risk.js';
export { exposureOf, reviewRisk } from './risk.js';
export type { TaintAssessment, TaintedArg, TaintState } from './taint.js';
export {
  assessTaint,
  describeTaint,
  emptyTaintState,
  entityArgs,
  normaliseValue,
  trustAlert,
  trustAnalystInput,
  trustResult,
} from './taint.js';
export type { TierLookup, TierRegistry, TierSource } from './tiers.js';
export { bundledToolTiers, createTierRegistry } from './tiers.js';
