import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import {
  configSchema,
  DEFAULT_ALWAYS_LOADED,
  type ServerConfig,
  type Tier,
  type WardenConfig,
} from './schema.js';

export type { ServerConfig, Tier, WardenConfig };
export { configSchema, DEFAULT_ALWAYS_LOADED };

const referencePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${VAR}` references in every string of the parsed document; a missing variable is an error. */
function resolveReferences(value: unknown, env: Record<string, string | undefined>, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(referencePattern, (_match, name: string) => {
      const resolved = env[name];
      if (resolved === undefined) {
        throw new ConfigError(
          `config ${path || '(root)'}: environment variable ${name} is not set; export it or remove the \${${name}} reference`,
        );
      }
      return resolved;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => resolveReferences(item, env, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        resolveReferences(item, env, path ? `${path}.${key}` : key),
      ]),
    );
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `'${key}'`).join(', ')}; remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
  }
  if (issue.code === 'invalid_union' && path.startsWith('servers.')) {
    return `${path}: a server is one of {bundled: siem|edr|intel|ticket|iam}, {command, args?, env?} or {url, headers?}`;
  }
  return `${path}: ${issue.message}`;
}

/** Parses and validates `warden.yaml` text; pure (no I/O). Empty or absent text gives the defaults. */
export function loadConfig(
  text: string | null,
  env: Record<string, string | undefined>,
  source = 'warden.yaml',
): WardenConfig {
  let document: unknown = {};
  if (text !== null && text.trim() !== '') {
    try {
      document = parseYaml(text) ?? {};
    } catch (error) {
      const where = error instanceof YAMLParseError && error.linePos ? ` line ${error.linePos[0].line}` : '';
      throw new ConfigError(
        `${source}${where}: not valid YAML (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
        { cause: error },
      );
    }
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(
      `${source}: the top level must be a mapping of keys (home, model, servers, tiers, ...)`,
    );
  }
  const resolved = resolveReferences(document, env, '');
  const result = configSchema.safeParse(resolved);
  if (!result.success) {
    const first = result.error.issues[0];
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
    throw new ConfigError(`${source}: ${first ? describeIssue(first) : 'invalid'}${more}`);
  }
  return result.data;
}

/** Reads the config file if it exists (an explicitly named file must exist); `path` is the absolute file used, if any. */
export async function readConfigFile(
  path: string | undefined,
  env: Record<string, string | undefined>,
): Promise<{ config: WardenConfig; path: string | null }> {
  const file = resolve(path ?? 'warden.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (path !== undefined)
      throw new ConfigError(`config file ${path} does not exist; check the --config path`);
    return { config: loadConfig(null, env), path: null };
  }
  return { config: loadConfig(text, env, path ?? 'warden.yaml'), path: file };
}
