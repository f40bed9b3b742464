import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * The environment skill's asset file (`skills/environment/assets.yaml`, or the `environment`
 * skill of a directory in `skills.directories`): the organisation's hosts and accounts, how
 * critical each is, who owns it, and who must sign off containment. The control layer reads it;
 * the model reads the same file through `read_skill_resource`.
 */

const level = z.enum(['low', 'medium', 'high', 'critical']);
const signer = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a role such as security-lead or asset-owner');

const assetSchema = z.strictObject({
  criticality: level,
  owner: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
  /** Roles that must approve containment of this asset, over the default for its criticality. */
  signOff: z.array(signer).optional(),
});

const patternSchema = z.strictObject({
  /** Host-name pattern, `*` for any run of characters, case-insensitive (e.g. `DC*`, `*-SQL-*`). */
  match: z.string().min(1).max(100),
  criticality: level,
  role: z.string().min(1).optional(),
  signOff: z.array(signer).optional(),
});

export const environmentAssetsSchema = z.strictObject({
  hosts: z.record(z.string().min(1), assetSchema).default({}),
  patterns: z.array(patternSchema).default([]),
  /** Accounts by `DOMAIN\name` (or a bare name, matching any domain). */
  users: z.record(z.string().min(1), assetSchema).default({}),
  /** Default sign-off roles per criticality. */
  signOff: z.partialRecord(level, z.array(signer)).default({}),
});

type Level = z.infer<typeof level>;
export type EnvironmentAsset = z.infer<typeof assetSchema> & { name: string };

export interface EnvironmentAssets {
  /** Hosts by short upper-case name. */
  hosts: ReadonlyMap<string, EnvironmentAsset>;
  /** Accounts by lower-case `domain\name` or bare name. */
  users: ReadonlyMap<string, EnvironmentAsset>;
  hostByPattern(host: string): { criticality: Level; role?: string; signOff?: string[] } | null;
  /** An account's entry: exact `DOMAIN\name` first, then its bare name. */
  user(account: string): EnvironmentAsset | null;
  /** Who must sign off containment of an asset of this criticality (the asset's own list wins). */
  signOffFor(criticality: Level, asset?: { signOff?: string[] } | null): string[];
}

/** The asset file's name inside the environment skill. */
export const environmentAssetsFile = 'assets.yaml';

export function hostKey(host: string): string {
  return (host.trim().split('.')[0] ?? '').toUpperCase();
}

function userKey(account: string): string {
  return account.trim().toLowerCase();
}

function globPattern(match: string): RegExp {
  const escaped = match.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Parses the asset file's text; throws a ConfigError naming the field and the fix. */
export function parseEnvironmentAssets(text: string, source: string): EnvironmentAssets {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
  const parsed = environmentAssetsSchema.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `${source}: ${issue?.path.map(String).join('.') || '(file)'}: ${issue?.message ?? 'invalid'}; see skills/environment/assets.yaml`,
    );
  }
  const hosts = new Map(
    Object.entries(parsed.data.hosts).map(([name, asset]) => [hostKey(name), { ...asset, name }]),
  );
  const users = new Map(
    Object.entries(parsed.data.users).map(([name, asset]) => [userKey(name), { ...asset, name }]),
  );
  const patterns = parsed.data.patterns.map((pattern) => ({ ...pattern, regex: globPattern(pattern.match) }));
  const defaults = parsed.data.signOff;
  return {
    hosts,
    users,
    hostByPattern: (host) => {
      const found = patterns.find((pattern) => pattern.regex.test(hostKey(host)));
      if (!found) return null;
      return {
        criticality: found.criticality,
        ...(found.role ? { role: found.role } : {}),
        ...(found.signOff ? { signOff: found.signOff } : {}),
      };
    },
    user: (account) => {
      const key = userKey(account);
      const bare = key.includes('\\') ? key.slice(key.lastIndexOf('\\') + 1) : key;
      const domainless =
        key === bare
          ? [...users.values()].find((entry) => userKey(entry.name).endsWith(`\\${bare}`))
          : undefined;
      return users.get(key) ?? users.get(bare) ?? domainless ?? null;
    },
    signOffFor: (criticality, asset) => asset?.signOff ?? defaults[criticality] ?? [],
  };
}

/** Reads the environment skill's asset file from disk. */
export function readEnvironmentAssets(path: string): EnvironmentAssets {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `environment asset file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
  return parseEnvironmentAssets(text, path);
}
