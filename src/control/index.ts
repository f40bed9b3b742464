export type { ReceiptCheck } from './approvals.js';
export { decideApproval, hashArgs, isExpired, redeemReceipt, requestApproval } from './approvals.js';
export type { Decision, Policy, PolicyDecision, ToolRequest } from './policy.js';
export { createPolicy, matchesToolPattern } from './policy.js';
export type { TierLookup, TierRegistry, TierSource } from './tiers.js';
export { bundledToolTiers, createTierRegistry } from './tiers.js';
