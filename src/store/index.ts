/** The store's public surface: other folders import only this file. */
export { AUDIT_GENESIS_HASH, auditBodyHash, auditEventHash } from './audit.js';
export { canonicalJson, sha256Hex } from './canonical.js';
export type { Sql } from './database.js';
export { sqlState, UNIQUE_VIOLATION } from './database.js';
export type { EmbeddedDatabase, EmbeddedDatabaseOptions } from './embedded.js';
export { createEmbeddedDatabase } from './embedded.js';
export type { JsonFile } from './json-file.js';
export { jsonFile } from './json-file.js';
export type { Migration } from './migrations.js';
export { type OpenStoreOptions, openStore } from './open.js';
export type {
  ApprovalRecord,
  ApprovalStatus,
  ApprovalStore,
  AuditChainRow,
  AuditEventRecord,
  AuditStore,
  AutonomyChangeRecord,
  AutonomyLevelName,
  AutonomyLevelRecord,
  AutonomyStore,
  FeedbackRecord,
  FeedbackStore,
  RunRecord,
  RunStatus,
  RunStore,
  Store,
} from './types.js';
