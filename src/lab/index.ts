export type { EventFilter, EventStore } from './events.js';
export { createEventStore } from './events.js';
export type { HostRecord, Inventory } from './inventory.js';
export { parseInventory } from './inventory.js';
export { normaliseEvent } from './normalise.js';
export type { LabBackends, SampleLabOptions } from './sample.js';
export { loadSampleLab, readEvents, sampleLabDir } from './sample.js';
export type { TrailEntry } from './trails.js';
export { inferIndicatorType, normaliseIndicator, parseTrails } from './trails.js';
