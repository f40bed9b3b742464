import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

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
  /** A user's (identity's) criticality, when the registry knows identities. */
  criticalityOfUser?(user: string): Criticality | null;
}

function hostKey(host: string): string {
  return (host.trim().split('.')[0] ?? '').toUpperCase();
}

/** Reads the inventory file (hosts → criticality) and applies per-host overrides from config. */
export function loadAssets(options: {
  inventory: string | null;
  hosts: Readonly<Record<string, Criticality>>;
}): AssetRegistry {
  const known = new Map<string, Criticality>();
  if (options.inventory) {
    let document: unknown;
    try {
      document = parseYaml(readFileSync(options.inventory, 'utf8'));
    } catch (error) {
      throw new ConfigError(
        `assets.inventory ${options.inventory} cannot be read as YAML: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const parsed = inventorySchema.safeParse(document ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(
        `assets.inventory ${options.inventory}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}; see examples/lab/inventory.yaml`,
      );
    }
    for (const [host, entry] of Object.entries(parsed.data.hosts))
      if (entry.criticality) known.set(hostKey(host), entry.criticality);
  }
  for (const [host, criticality] of Object.entries(options.hosts)) known.set(hostKey(host), criticality);
  return { criticalityOf: (host) => known.get(hostKey(host)) ?? null };
}
