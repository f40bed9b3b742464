import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EdrBackend, SiemBackend } from '../../capability/backends/types.js';
import type { EdrTelemetry } from '../edr.js';
import { createLabEdr } from '../edr.js';
import { parseInventory } from '../inventory.js';
import { sampleLabDir } from '../sample.js';
import type { LabStore } from './lab.js';
import { openLabStore } from './lab.js';

export interface StoreBackendsOptions {
  /** Folder with `sample-incident.jsonl` (the seed of a new store) and `inventory.yaml`. */
  dataDir?: string;
  now?: () => Date;
}

/** The SIEM and EDR of a home's DuckDB store, opened read-only on first use. */
export interface StoreBackends {
  siem: SiemBackend;
  edr: EdrBackend;
  /** The open store; a failed open (e.g. `lab load` holding the file) is retried on the next call. */
  ready(): Promise<LabStore>;
}

/**
 * Builds the backends synchronously (MCP servers are built synchronously) over a store opened in the
 * background; each call waits for it. EDR response state stays in `<home>/lab/endpoints.json`.
 */
export function createStoreBackends(home: string, options: StoreBackendsOptions = {}): StoreBackends {
  const dataDir = options.dataDir ?? sampleLabDir;
  let opening: Promise<LabStore> | null = null;
  const ready = (): Promise<LabStore> => {
    if (!opening) {
      const attempt = openLabStore(home, {
        readOnly: true,
        seedFile: join(dataDir, 'sample-incident.jsonl'),
      });
      opening = attempt;
      attempt.catch(() => {
        if (opening === attempt) opening = null;
      });
    }
    return opening;
  };
  // Opened now so a server answers its first call quickly; a failure surfaces on that call.
  ready().catch(() => undefined);
  const inventoryPath = join(dataDir, 'inventory.yaml');
  const inventory = parseInventory(readFileSync(inventoryPath, 'utf8'), inventoryPath);
  return {
    siem: deferred<SiemBackend>(async () => (await ready()).siem),
    edr: createLabEdr({
      telemetry: deferred<EdrTelemetry>(async () => (await ready()).telemetry),
      inventory,
      stateDir: join(home, 'lab'),
      now: options.now ?? (() => new Date()),
    }),
    ready,
  };
}

/** An object whose async methods wait for `target()` and then call the real method. */
function deferred<T extends object>(target: () => Promise<T>): T {
  return new Proxy({} as T, {
    get: (_, name) =>
      // Not a thenable: `await deferred(...)` must not call into the target.
      name === 'then'
        ? undefined
        : async (...args: unknown[]) => {
            const resolved = (await target()) as Record<PropertyKey, (...callArgs: unknown[]) => unknown>;
            return resolved[name]?.(...args);
          },
  });
}
