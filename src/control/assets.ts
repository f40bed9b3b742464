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

const criticality = z.enum(criticalities);
const inventorySchema = z.object({
  hosts: z.record(z.string(), z.looseObject({ criticality: criticality.optional() })).default({}),
  users: z.record(z.string(), z.looseObject({ criticality: criticality.optional() })).default({}),
  groups: z
    .record(
      z.string(),
      z.looseObject({ criticality: criticality.optional(), members: z.array(z.string()).default([]) }),
    )
    .default({}),
});

export interface AssetRegistry {
  /** The host's criticality from Warden's own inventory (never from tool results), or null when unknown. */
  criticalityOf(host: string): Criticality | null;
  /**
   * An identity's criticality from Warden's own inventory and `assets.users`: by name, by `*`
   * glob, or as a member of a group listed in the inventory. The highest match wins; null when none.
   */
  criticalityOfUser(user: string): Criticality | null;
}

/** The target of a tool call that makes it critical, if any: its `host`, or its `user`/`username`. */
export interface CriticalTarget {
  kind: 'host' | 'identity';
  name: string;
}

/** Which argument of a destructive call names a critical asset: the same rule for every tool, bundled or not. */
export function criticalTargetOf(
  assets: AssetRegistry,
  args: Record<string, unknown>,
): CriticalTarget | null {
  const host = typeof args.host === 'string' ? args.host : null;
  if (host !== null && assets.criticalityOf(host) === 'critical') return { kind: 'host', name: host };
  for (const key of ['user', 'username'] as const) {
    const user = args[key];
    if (typeof user === 'string' && assets.criticalityOfUser(user) === 'critical')
      return { kind: 'identity', name: user };
  }
  return null;
}

/**
 * An account as `domain\name` (domain cut to its first label, lower case) or a bare `name`;
 * `name@domain.tld` becomes `domain\name`, so the spellings the telemetry uses compare equal.
 */
export function identityKey(user: string): string {
  const lower = user.trim().toLowerCase();
  const at = lower.lastIndexOf('@');
  if (!lower.includes('\\') && at > 0) return `${lower.slice(at + 1).split('.')[0]}\\${lower.slice(0, at)}`;
  const slash = lower.lastIndexOf('\\');
  if (slash === -1) return lower;
  return `${lower.slice(0, slash).split('.')[0]}\\${lower.slice(slash + 1)}`;
}

const rank: Record<Criticality, number> = { low: 0, medium: 1, high: 2, critical: 3 };

function globRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

const namePart = (key: string) => key.slice(key.lastIndexOf('\\') + 1);

/**
 * A name pattern: a bare pattern matches the name in any domain, `domain\name` also the domain.
 * A bare name in a call (which the IAM tools resolve to the unique account) matches on the name.
 */
function identityMatcher(pattern: string): (key: string) => boolean {
  const normalised = identityKey(pattern);
  const full = globRegex(normalised);
  const name = globRegex(namePart(normalised));
  return (key) =>
    normalised.includes('\\') && key.includes('\\') ? full.test(key) : name.test(namePart(key));
}

function readInventory(path: string): z.infer<typeof inventorySchema> {
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
  return parsed.data;
}

/**
 * Warden's own asset list, from three sources, later ones winning for the same host or identity:
 * 1. the inventory file (`assets.inventory`, default the sample lab's: hosts, users, groups),
 * 2. the environment skill's `assets.yaml` (exact hosts and users, then its host name patterns
 *    for hosts no file names exactly),
 * 3. per-host and per-identity overrides in config (`assets.hosts`, `assets.users`).
 * Group membership comes from the inventory only: membership seen in telemetry could be forged
 * by an attacker to lower a target's protection.
 */
export function loadAssets(options: {
  inventory: string | null;
  hosts: Readonly<Record<string, Criticality>>;
  users?: Readonly<Record<string, Criticality>>;
  /** Path of the environment skill's asset file, or the already-read file, or null. */
  environment?: string | EnvironmentAssets | null;
}): AssetRegistry {
  const hosts = new Map<string, Criticality>();
  const identityRules: Array<{ pattern: string; criticality: Criticality }> = [];
  const groupMembers = new Map<string, string[]>();
  if (options.inventory) {
    const inventory = readInventory(options.inventory);
    for (const [host, entry] of Object.entries(inventory.hosts))
      if (entry.criticality) hosts.set(hostKey(host), entry.criticality);
    for (const [user, entry] of Object.entries(inventory.users))
      if (entry.criticality) identityRules.push({ pattern: user, criticality: entry.criticality });
    for (const [group, entry] of Object.entries(inventory.groups)) {
      groupMembers.set(identityKey(group), entry.members);
      if (entry.criticality) identityRules.push({ pattern: group, criticality: entry.criticality });
    }
  }
  const environment =
    typeof options.environment === 'string'
      ? readEnvironmentAssets(options.environment)
      : options.environment;
  if (environment) {
    for (const [key, host] of environment.hosts) hosts.set(key, host.criticality);
    for (const user of environment.users.values())
      identityRules.push({ pattern: user.name, criticality: user.criticality });
  }
  const overrides = new Map(Object.entries(options.hosts).map(([host, level]) => [hostKey(host), level]));
  for (const [user, level] of Object.entries(options.users ?? {}))
    identityRules.push({ pattern: user, criticality: level });

  // A rule naming a group covers its members; any other rule is a name pattern.
  const rules = identityRules.map((rule) => {
    const members = groupMembers.get(identityKey(rule.pattern));
    const matchers = members ? members.map(identityMatcher) : [identityMatcher(rule.pattern)];
    return { criticality: rule.criticality, matches: (key: string) => matchers.some((match) => match(key)) };
  });
  // Config overrides the inventory for the very same pattern; otherwise the highest match wins.
  const exact = new Map<string, Criticality>();
  for (const [user, level] of Object.entries(options.users ?? {})) exact.set(identityKey(user), level);

  return {
    criticalityOf: (host) => {
      const key = hostKey(host);
      return overrides.get(key) ?? hosts.get(key) ?? environment?.hostByPattern(key)?.criticality ?? null;
    },
    criticalityOfUser(user) {
      const key = identityKey(user);
      const pinned = exact.get(key);
      if (pinned) return pinned;
      let best: Criticality | null = null;
      for (const rule of rules)
        if (rule.matches(key) && (best === null || rank[rule.criticality] > rank[best]))
          best = rule.criticality;
      return best;
    },
  };
}
