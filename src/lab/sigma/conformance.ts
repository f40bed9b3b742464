import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../../errors.js';
import { type FlatEvent, flattenWindowsEvent } from '../flatten.js';
import { compileRule, compileRuleDetection } from './compile.js';
import { readRuleFiles } from './load.js';
import type { SigmaRule } from './rule.js';
import { createRuleSet } from './ruleset.js';
import { EventView } from './view.js';

/** The outcome of one regression case. */
export type CaseResult =
  | { type: 'pass'; case: string; ruleId: string }
  | { type: 'fail'; case: string; ruleId: string; reason: string };

/** The outcome of a conformance run. */
export interface ConformanceReport {
  total: number;
  passed: number;
  passRate: number;
  results: CaseResult[];
}

/** The `rules*` siblings of a regression folder, where SigmaHQ keeps the rules its cases test. */
export async function defaultRuleDirectories(regressionDir: string): Promise<string[]> {
  const parent = dirname(regressionDir.replace(/[/\\]+$/, ''));
  const entries = await readdir(parent, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && entry.name.startsWith('rules'))
    .map((entry) => join(parent, entry.name))
    .sort();
}

/** Splits concatenated JSON values (`{…}{…}`, pretty-printed or one per line) by tracking brace depth. */
function splitJsonValues(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') {
      if (depth++ === 0) start = index;
    } else if ((char === '}' || char === ']') && --depth === 0) values.push(text.slice(start, index + 1));
  }
  return values;
}

/** Reads an evtx_dump file: one JSON object, an array of them, or several objects one after another. */
export function parseEventFile(text: string, path: string): FlatEvent[] {
  const records: unknown[] = [];
  for (const [index, value] of splitJsonValues(text).entries()) {
    try {
      const document: unknown = JSON.parse(value);
      records.push(...(Array.isArray(document) ? document : [document]));
    } catch (error) {
      throw new InputError(`${path}: event ${index + 1} is not JSON`, { cause: error });
    }
  }
  return records.map((record) => flattenWindowsEvent(record as Record<string, unknown>));
}

/** Rule ids named by a case's info.yml (`rule_metadata[].id`). */
function ruleIdsOf(info: unknown, path: string): string[] {
  const metadata = (info as { rule_metadata?: unknown } | null)?.rule_metadata;
  const ids = Array.isArray(metadata) ? metadata.map((item) => (item as { id?: unknown })?.id) : [];
  if (ids.length === 0 || ids.some((id) => typeof id !== 'string'))
    throw new InputError(`${path}: field rule_metadata[].id is missing`);
  return ids as string[];
}

/**
 * The least number of matching events a case expects (`regression_tests_info[].match_count`), if it says.
 * A minimum, not an exact count: some SigmaHQ cases hold more true positives than their match_count.
 */
function matchCountOf(info: unknown): number | undefined {
  const tests = (info as { regression_tests_info?: unknown } | null)?.regression_tests_info;
  if (!Array.isArray(tests)) return undefined;
  const count = tests
    .map((test) => (test as { match_count?: unknown })?.match_count)
    .find((value) => typeof value === 'number');
  return count as number | undefined;
}

function countReason(
  matched: number,
  expected: number | undefined,
  total: number,
  what: string,
): string | undefined {
  if (matched >= (expected ?? 1)) return undefined;
  return `${matched} of ${total} ${what} match the rule, expected at least ${expected ?? 1}`;
}

async function caseFolders(regressionDir: string): Promise<string[]> {
  const entries = await readdir(regressionDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name === 'info.yml')
    .map((entry) => entry.parentPath)
    .sort();
}

interface RegressionCase {
  ruleIds: string[];
  matchCount: number | undefined;
  events: FlatEvent[];
  raw: FlatEvent[];
}

/** Reads a case folder: info.yml, evtx_dump `.json` files and raw `.raw` log files; InputError when malformed. */
async function readCase(folder: string): Promise<RegressionCase> {
  const infoPath = join(folder, 'info.yml');
  let info: unknown;
  try {
    info = parse(await readFile(infoPath, 'utf8'));
  } catch (error) {
    throw new InputError(`${infoPath}: not valid YAML`, { cause: error });
  }
  const events: FlatEvent[] = [];
  const raw: FlatEvent[] = [];
  for (const file of (await readdir(folder)).sort()) {
    const path = join(folder, file);
    if (file.endsWith('.json')) events.push(...parseEventFile(await readFile(path, 'utf8'), path));
    // A raw log line has no fields: it is searched by keywords through one Message field.
    if (file.endsWith('.raw'))
      for (const line of (await readFile(path, 'utf8')).split('\n'))
        if (line.trim()) raw.push({ Message: line.trim() });
  }
  return { ruleIds: ruleIdsOf(info, infoPath), matchCount: matchCountOf(info), events, raw };
}

/** Tests one rule on the case's events: evtx events through the rule's logsource, raw lines on the detection alone. */
function testCase(
  entry: { rule: SigmaRule; path: string } | undefined,
  events: FlatEvent[],
  raw: FlatEvent[],
  expected: number | undefined,
): string | undefined {
  if (!entry) return 'rule not found in the rule directories';
  if (events.length === 0 && raw.length === 0) return 'case has no .json or .raw event file';
  if (events.length > 0) {
    const compiled = compileRule(entry.rule, entry.path);
    if (compiled.type === 'unsupported') return `rule unsupported: ${compiled.reason}`;
    const ruleSet = createRuleSet([compiled.compiled]);
    const matched = events.filter((event) => ruleSet.match(event).length > 0).length;
    return countReason(matched, expected, events.length, 'events');
  }
  const detection = compileRuleDetection(entry.rule);
  if (detection.type === 'unsupported') return `rule unsupported: ${detection.reason}`;
  const matched = raw.filter((event) => detection.matches(new EventView(event))).length;
  return countReason(matched, expected, raw.length, 'raw lines');
}

/** Runs the Sigma regression cases under regressionDir: each case passes when its event matches its rule. */
export async function runConformance(
  regressionDir: string,
  ruleDirs?: readonly string[],
): Promise<ConformanceReport> {
  const directories =
    ruleDirs && ruleDirs.length > 0 ? ruleDirs : await defaultRuleDirectories(regressionDir);
  const rulesById = new Map<string, { rule: SigmaRule; path: string }>();
  for (const file of await readRuleFiles(directories))
    if (file.type === 'parsed' && file.parsed.type === 'rule')
      rulesById.set(file.parsed.rule.id, { rule: file.parsed.rule, path: file.path });
  const results: CaseResult[] = [];
  for (const folder of await caseFolders(regressionDir)) {
    const name = relative(regressionDir, folder) || basename(folder);
    let regressionCase: RegressionCase;
    try {
      regressionCase = await readCase(folder);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      results.push({ type: 'fail', case: name, ruleId: '', reason: error.message });
      continue;
    }
    const { ruleIds, events, raw, matchCount } = regressionCase;
    for (const ruleId of ruleIds) {
      const reason = testCase(rulesById.get(ruleId), events, raw, matchCount);
      results.push(
        reason ? { type: 'fail', case: name, ruleId, reason } : { type: 'pass', case: name, ruleId },
      );
    }
  }
  const passed = results.filter((result) => result.type === 'pass').length;
  return {
    total: results.length,
    passed,
    passRate: results.length === 0 ? 0 : passed / results.length,
    results,
  };
}
