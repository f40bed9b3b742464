import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { type CompiledRule, compileRule } from './compile.js';
import type { CompileOptions } from './placeholders.js';
import { type ParsedRuleFile, parseRule } from './rule.js';

/** A rule the engine cannot evaluate, with the reason. */
export interface UnsupportedRule {
  path: string;
  id: string;
  reason: string;
}

/** The outcome of loading rule directories: compiled rules and every rule left out, with its reason. */
export interface LoadedRules {
  rules: CompiledRule[];
  unsupported: UnsupportedRule[];
}

/** One rule file read from disk: parsed, or rejected as malformed. */
export type RuleFile =
  | { type: 'parsed'; path: string; parsed: ParsedRuleFile }
  | { type: 'invalid'; path: string; error: InputError };

/** Every `.yml`/`.yaml` file under the directories, sorted for a stable order. */
async function listRuleFiles(directories: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const directory of directories) {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) files.push(join(entry.parentPath, entry.name));
    }
  }
  return files.sort();
}

/** Reads and parses every rule file under the directories; malformed files are returned, not thrown. */
export async function readRuleFiles(directories: readonly string[]): Promise<RuleFile[]> {
  const files = await listRuleFiles(directories);
  return Promise.all(
    files.map(async (path): Promise<RuleFile> => {
      try {
        return { type: 'parsed', path, parsed: parseRule(await readFile(path, 'utf8'), path) };
      } catch (error) {
        if (error instanceof InputError) return { type: 'invalid', path, error };
        throw error;
      }
    }),
  );
}

/** Loads and compiles the rules under the directories; every rule not compiled is reported with its reason. */
export async function loadRules(
  directories: readonly string[],
  options: CompileOptions = {},
): Promise<LoadedRules> {
  const rules: CompiledRule[] = [];
  const unsupported: UnsupportedRule[] = [];
  for (const file of await readRuleFiles(directories)) {
    if (file.type === 'invalid') {
      unsupported.push({ path: file.path, id: '', reason: `invalid rule file: ${file.error.message}` });
      continue;
    }
    const { parsed, path } = file;
    if (parsed.type === 'meta') {
      unsupported.push({ path, id: parsed.id, reason: `${parsed.kind} rules are not supported` });
      continue;
    }
    const result = compileRule(parsed.rule, path, options);
    if (result.type === 'compiled') rules.push(result.compiled);
    else unsupported.push({ path, id: parsed.rule.id, reason: result.reason });
  }
  return { rules, unsupported };
}
