/** IAM for the lab: accounts and groups seen in the telemetry, with persisted response actions. */
export type { Account, AccountCount } from './accounts.js';
export { accountName, isSystemAccount, mergeAccounts, resolveAccount, sameAccount } from './accounts.js';
export type { LabIamOptions } from './backend.js';
export { createLabIam } from './backend.js';
export { mergeGroups, readInventoryGroups, telemetryGroups } from './groups.js';
export type { AccountState, IamFile } from './state.js';
export { iamStateFile } from './state.js';
