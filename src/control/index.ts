export type { ReceiptCheck } from './approvals.js';
export {
  checkReceipt,
  consumeReceipt,
  decideApproval,
  hashArgs,
  isExpired,
  requestApproval,
} from './approvals.js';
export type { AssetRegistry, Criticality, CriticalTarget } from './assets.js';
export { criticalities, criticalTargetOf, identityKey, loadAssets, sampleInventoryPath } from './assets.js';
export type { AutonomyBook, AutonomyEvidence, AutonomySettings, EvidenceSource } from './autonomy.js';
export {
  agreementOf,
  autonomyLadder,
  checkDemotions,
  createAutonomyBook,
  demoteClass,
  demotionReason,
  EVIDENCE_WINDOW,
  gatherEvidence,
  missingForPromotion,
  promoteClass,
} from './autonomy.js';
export type { CostMeter, MeteredUsage, ModelPrice, PriceLookup, ResponseCost } from './budget.js';
export { createCostMeter, defaultPricing } from './budget.js';
export type {
  AutonomyLevel,
  CedarPolicySet,
  CedarRequest,
  CedarVerdict,
  PolicyMeta,
  PolicyReason,
} from './cedar.js';
export { bundledPoliciesDirectory, loadCedarPolicies } from './cedar.js';
export type { CredentialIssuer, IssuedCredential, MintRequest } from './credentials.js';
export { createCredentialIssuer, describeCredential, killRevocations } from './credentials.js';
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
export type { EnvironmentAsset, EnvironmentAssets } from './environment.js';
export {
  environmentAssetsFile,
  environmentAssetsSchema,
  parseEnvironmentAssets,
  readEnvironmentAssets,
} from './environment.js';
export type { InjectionClassifier, InjectionHit } from './injection.js';
export {
  classifyAll,
  createPatternClassifier,
  detectInjection,
  untrustedFields,
} from './injection.js';
export type { KillScope, KillSwitch, KillSwitchBoard, KillTarget } from './killswitch.js';
export { describeScope, findKillSwitch, killSwitchPath, openKillSwitchBoard } from './killswitch.js';
export type { ActionCounts, Decision, Policy, PolicyDecision, PolicyOptions, ToolRequest } from './policy.js';
export { createPolicy, defaultAutonomy, killReason, matchesToolPattern, targetAsset } from './policy.js';
export type { PolicyConfig } from './policy-version.js';
export { policyConfigOf, policyVersionOf } from './policy-version.js';
export type { Leaf, ResultLabels } from './provenance.js';
export { bundledTrustedFields, labelResult, leavesOf, partitionLeaves, pathMatches } from './provenance.js';
export type { RiskReview, ToolExposure } from './risk.js';
export { exposureOf, reviewRisk } from './risk.js';
export type { TaintAssessment, TaintedArg, TaintState } from './taint.js';
export {
  analystRequestValues,
  assessTaint,
  describeTaint,
  emptyTaintState,
  entityArgs,
  normaliseValue,
  trustAlert,
  trustAnalystInput,
  trustResult,
} from './taint.js';
export type { TierLookup, TierRegistry, TierRule, TierSource } from './tiers.js';
export { bundledServerKinds, bundledToolsOf, bundledToolTiers, createTierRegistry } from './tiers.js';
