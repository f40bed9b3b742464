import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  EdrBackend,
  IntelBackend,
  LabEvent,
  SiemBackend,
  TechniqueInfo,
  TicketBackend,
} from '../capability/backends/types.js';
import { InputError } from '../errors.js';
import { linkAuditParents } from './audit-lineage.js';
import { createLabEdr } from './edr.js';
import { createEventStore } from './events.js';
import { readSampleTechniques } from './intel/attack.js';
import { createLabIntel } from './intel.js';
import { parseInventory } from './inventory.js';
import { normaliseEvent } from './normalise.js';
import { createMemoryTelemetry, createProcessIndex } from './processes.js';
import { createLabSiem } from './siem.js';
import { createLabTickets } from './tickets.js';
import type { TrailEntry } from './trails.js';
import { parseTrails } from './trails.js';

/** `examples/lab/` of the installed package; the same relative path works from `src/lab/` and `dist/lab/`. */
export const sampleLabDir = fileURLToPath(new URL('../../examples/lab/', import.meta.url));

/** The four lab backends the bundled MCP servers serve. */
export interface LabBackends {
  siem: SiemBackend;
  edr: EdrBackend;
  intel: IntelBackend;
  tickets: TicketBackend;
}

export interface SampleLabOptions {
  /** Folder with `sample-incident.jsonl`, `inventory.yaml`, `attack-techniques.json`, `intel/*.txt`. */
  dataDir?: string;
  now?: () => Date;
}

/**
 * Loads the embedded sample lab: telemetry and intel are read-only and in memory; EDR response
 * state and tickets persist under `<home>/lab/`, shared with other processes using that home.
 */
export function loadSampleLab(home: string, options: SampleLabOptions = {}): LabBackends {
  const dataDir = options.dataDir ?? sampleLabDir;
  const now = options.now ?? (() => new Date());
  const stateDir = join(home, 'lab');
  const store = createEventStore(readEvents(join(dataDir, 'sample-incident.jsonl')));
  const inventoryPath = join(dataDir, 'inventory.yaml');
  const inventory = parseInventory(readFileSync(inventoryPath, 'utf8'), inventoryPath);
  return {
    siem: createLabSiem(store),
    edr: createLabEdr({
      telemetry: createMemoryTelemetry(store, createProcessIndex(store.events)),
      inventory,
      stateDir,
      now,
    }),
    intel: createLabIntel(readTrailFeeds(join(dataDir, 'intel')), readTechniques(dataDir)),
    tickets: createLabTickets(stateDir, now),
  };
}

/** Reads a JSON-lines event file (Security 4688 parents linked); event ids are `<file stem>-<line number>`. */
export function readEvents(path: string): LabEvent[] {
  const stem = basename(path).replace(/\.jsonl?$/, '');
  const events: LabEvent[] = [];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const where = `${path}:${index + 1}`;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (error) {
        throw new InputError(`${where}: not valid JSON`, { cause: error });
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new InputError(`${where}: expected one JSON object per line`);
      }
      events.push(
        normaliseEvent(raw as Record<string, unknown>, `${stem}-${String(index + 1).padStart(4, '0')}`),
      );
    });
  linkAuditParents(events);
  return events;
}

function readTrailFeeds(dir: string): TrailEntry[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .flatMap((name) => parseTrails(readFileSync(join(dir, name), 'utf8'), name.slice(0, -4), 'sample-lab'));
}

function readTechniques(dataDir: string): TechniqueInfo[] {
  return readSampleTechniques(join(dataDir, 'attack-techniques.json'));
}
