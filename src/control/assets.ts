import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type EnvironmentAssets, hostKey, readEnvironmentAssets } from './environment.js';

export const criticalities = ['low', 'medium', 'high', 'critical'] as const;
export type Criticality = (typeof criticalities)[number];

/** The shipped sample lab's inventory: the default asset list on the embedded defaults. */
export const sampleInventoryPath = fileURLToPath(
  new URL('../../examples/lab/inventory.yaml', import.meta.url),
);

const inventorySchema = z.object({
  hosts: z.record(z.string(), z.looseObject({ criticality: z.enum(criticalities).optional() })).default({}),
});

export interface AssetRegistry {
  /** The host's criticality from Warden's own inventory (never from tool results), or null when unknown. */
  criticalityOf(host: string): Criticality | null;
}

function readInventory(path: string): Map<string, Criticality> {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`assets.inventory ${path} cannot be read as YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = inventorySchema.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `assets.inventory ${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}; see examples/lab/inventory.yaml`,
    );
  }
  const known = new Map<string, Criticality>();
  for (const [host, entry] of Object.entries(parsed.data.hosts))
    if (entry.criticality) known.set(hostKey(host), entry.criticality);
  return known;
}

/**
 * Warden's own asset list, from three sources, later ones winning for the same host:
 * 1. the inventory file (`assets.inventory`, default the sample lab's),
 * 2. the environment skill's `assets.yaml` (exact hosts, then its name patterns for hosts
 *    no file names exactly),
 * 3. per-host overrides in config (`assets.hosts`).
 */
export function loadAssets(options: {
  inventory: string | null;
  /** Path of the environment skill's asset file, or the already-read file, or null. */
  environment?: string | EnvironmentAssets | null;
  hosts: Readonly<Record<string, Criticality>>;
}): AssetRegistry {
  const known = options.inventory ? readInventory(options.inventory) : new Map<string, Criticality>();
  const environment =
    typeof options.environment === 'string'
      ? readEnvironmentAssets(options.environment)
      : options.environment;
  if (environment) for (const [key, host] of environment.hosts) known.set(key, host.criticality);
  const overrides = new Map(Object.entries(options.hosts).map(([host, level]) => [hostKey(host), level]));
  return {
    criticalityOf: (host) => {
      const key = hostKey(host);
      return overrides.get(key) ?? known.get(key) ?? environment?.hostByPattern(key)?.criticality ?? null;
    },
  };
}
