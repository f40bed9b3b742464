export { auditProcessGuid, linkAuditParents } from './audit-lineage.js';
export type { EventFilter, EventStore } from './events.js';
export { createEventStore } from './events.js';
export type { FlatEvent } from './flatten.js';
export { flattenWindowsEvent, isEvtxRecord } from './flatten.js';
export type { LabIamOptions } from './iam/index.js';
export { createLabIam, readInventoryGroups } from './iam/index.js';
export type { IntelConfig, IntelSources, LoadedIndicators } from './intel/index.js';
export {
  createIntelFromSources,
  defaultIntelSources,
  intelSourcesFrom,
  loadAttackReference,
  loadIndicators,
  sharedAttack,
  sharedIndicators,
} from './intel/index.js';
export type { HostRecord, Inventory } from './inventory.js';
export { parseInventory } from './inventory.js';
export type { FileOutcome, LabLoadResult, LoadError, SourceFile } from './loaders/index.js';
export { loadLabPaths } from './loaders/index.js';
export { normaliseEvent } from './normalise.js';
export type { LabBackends, SampleLabOptions } from './sample.js';
export { loadSampleLab, readEvents, sampleLabDir } from './sample.js';
export type { LabStatus, LabStore, StoreBackends } from './store/index.js';
export { createStoreBackends, labRawDir, labStorePath, openLabStore, readLabStatus } from './store/index.js';
export type { TicketStoreOptions } from './tickets.js';
export { createLabTickets, createTicketStore, ticketMigrations } from './tickets.js';
export type { TrailEntry } from './trails.js';
export { inferIndicatorType, normaliseIndicator, parseTrails } from './trails.js';
