import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openHomeStore, openRuntime, type RunOutcome, startRun } from '../agent/index.js';
import { configSchema, type WardenConfig } from '../config/index.js';
import { ConfigError, describeError } from '../errors.js';
import { loadLabPaths } from '../lab/index.js';
import type { Store } from '../store/index.js';
import type { EvalCase, EvalSuite } from './suite.js';
import type { CaseResult, GotVerdict, TokenPrice } from './types.js';

export interface RunSuiteOptions {
  suite: EvalSuite;
  config: WardenConfig;
  configPath: string | null;
  /** Warden home; the suite runs in `<home>/eval/<suite name>`. */
  home: string;
  /** Model provider name, over the config's. */
  provider?: string;
  concurrency: number;
  /** Keep the results of an earlier, interrupted run and triage only the cases it did not finish. */
  resume: boolean;
  price?: TokenPrice;
  onLoad?: (summary: { loaded: number; skipped: number; events: number; failed: number }) => void;
  onStart?: (total: number, done: number) => void;
  onCase?: (result: CaseResult) => void;
}

export interface SuiteRun {
  home: string;
  resultsFile: string;
  results: CaseResult[];
  /** Cases taken over from an earlier run with --resume. */
  resumed: number;
}

/** The state directory of one suite: its own lab store, runs and audit trail. */
export function suiteHome(home: string, suiteName: string): string {
  return join(resolve(home), 'eval', suiteName);
}

/** The config an eval runs under: bundled servers linked in-process, one gateway, the chosen provider. */
export function evalConfig(config: WardenConfig, home: string, provider?: string): WardenConfig {
  const servers = Object.fromEntries(
    Object.entries(config.servers).map(([name, server]) => [
      name,
      'bundled' in server ? { ...server, transport: 'memory' as const } : server,
    ]),
  );
  const model = provider ? { ...config.model, provider } : config.model;
  const parsed = configSchema.shape.model.safeParse(model);
  if (!parsed.success)
    throw new ConfigError(`--provider ${provider}: ${parsed.error.issues[0]?.message ?? 'unknown provider'}`);
  return { ...config, home, servers, model: parsed.data };
}

async function readResults(file: string, caseIds: ReadonlySet<string>): Promise<CaseResult[]> {
  if (!existsSync(file)) return [];
  const results = new Map<string, CaseResult>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    try {
      const result = JSON.parse(line) as CaseResult;
      if (typeof result.caseId === 'string' && caseIds.has(result.caseId)) results.set(result.caseId, result);
    } catch {
      // A line cut short by an interrupted write: that case is triaged again.
    }
  }
  return [...results.values()];
}

function gotOf(outcome: RunOutcome): GotVerdict {
  return outcome.verdict?.verdict ?? 'failed';
}

async function usageOf(store: Store, runId: string, price: TokenPrice | undefined) {
  const run = await store.runs.get(runId);
  const state = (run?.state ?? {}) as { toolCalls?: number; tokens?: number };
  let costUsd = 0;
  if (price && (price.inputPerMTok > 0 || price.outputPerMTok > 0)) {
    for (const event of await store.audit.list(runId)) {
      if (event.type !== 'model-response') continue;
      const usage = (event.data as { usage?: { inputTokens?: number; outputTokens?: number } }).usage;
      costUsd +=
        ((usage?.inputTokens ?? 0) * price.inputPerMTok + (usage?.outputTokens ?? 0) * price.outputPerMTok) /
        1e6;
    }
  }
  return { toolCalls: state.toolCalls ?? 0, tokens: state.tokens ?? 0, costUsd };
}

async function triageCase(
  deps: ReturnType<Awaited<ReturnType<typeof openRuntime>>['loopDeps']>,
  evalCase: EvalCase,
  price: TokenPrice | undefined,
): Promise<CaseResult> {
  const base = {
    caseId: evalCase.id,
    dataset: evalCase.dataset ?? null,
    alertTitle: evalCase.alert.title,
    expected: evalCase.expected.verdict,
    expectedTechniques: evalCase.expected.techniques,
  };
  const started = performance.now();
  try {
    const outcome = await startRun(deps, evalCase.alert);
    const ms = performance.now() - started;
    return {
      ...base,
      runId: outcome.runId,
      got: gotOf(outcome),
      status: outcome.status,
      confidence: outcome.verdict?.confidence ?? null,
      techniques: outcome.verdict?.techniques ?? [],
      ...(await usageOf(deps.store, outcome.runId, price)),
      ms,
      error: outcome.error,
    };
  } catch (error) {
    return {
      ...base,
      runId: null,
      got: 'failed',
      status: 'failed',
      confidence: null,
      techniques: [],
      toolCalls: 0,
      tokens: 0,
      costUsd: 0,
      ms: performance.now() - started,
      error: describeError(error),
    };
  }
}

/**
 * Opens the runtime with every tool that is not a read on `policy.deny`: an eval scores verdicts and
 * never acts (no isolation, no ticket, no state that would leak into the next case). The recommended
 * actions are still recorded in each run, as denied.
 */
async function openReadOnlyRuntime(config: WardenConfig, configPath: string | null) {
  const probe = await openRuntime({ config, home: config.home, configPath });
  const writes = probe.gateway.tools.filter((tool) => tool.tier !== 'read').map((tool) => tool.name);
  if (writes.length === 0) return probe;
  await probe.close();
  const readOnly = { ...config, policy: { ...config.policy, deny: [...config.policy.deny, ...writes] } };
  return openRuntime({ config: readOnly, home: config.home, configPath });
}

/**
 * Runs a suite: loads its datasets into the suite's home (once; a second load skips them),
 * triages every case not yet done with `concurrency` runs in flight, and appends each result
 * to `results.jsonl` as soon as it is known, so an interrupted run resumes where it stopped.
 * No action is executed: every tool that is not a read is denied (see openReadOnlyRuntime).
 */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteRun> {
  const { suite } = options;
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new ConfigError('--concurrency must be a positive whole number');
  const home = suiteHome(options.home, suite.name);
  await mkdir(home, { recursive: true });
  const resultsFile = join(home, 'results.jsonl');
  const caseIds = new Set(suite.cases.map((evalCase) => evalCase.id));
  const earlier = options.resume ? await readResults(resultsFile, caseIds) : [];
  if (!options.resume) await writeFile(resultsFile, '');

  if (suite.datasets.length > 0) {
    const loaded = await loadLabPaths(home, suite.datasets, { seedFile: null });
    if (loaded.problems.length > 0)
      throw new ConfigError(
        `suite ${suite.name}: ${loaded.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`,
      );
    options.onLoad?.(loaded);
  }

  const done = new Set(earlier.map((result) => result.caseId));
  const todo = suite.cases.filter((evalCase) => !done.has(evalCase.id));
  options.onStart?.(suite.cases.length, earlier.length);
  const results = [...earlier];
  if (todo.length === 0) return { home, resultsFile, results, resumed: earlier.length };

  const runtime = await openReadOnlyRuntime(
    evalConfig(options.config, home, options.provider),
    options.configPath,
  );
  try {
    const store = await openHomeStore(home);
    try {
      const deps = runtime.loopDeps(store);
      let next = 0;
      const worker = async () => {
        for (;;) {
          const evalCase = todo[next++];
          if (!evalCase) return;
          const result = await triageCase(deps, evalCase, options.price);
          await appendFile(resultsFile, `${JSON.stringify(result)}\n`);
          results.push(result);
          options.onCase?.(result);
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency, todo.length) }, worker));
    } finally {
      await store.close();
    }
  } finally {
    await runtime.close();
  }
  const order = new Map(suite.cases.map((evalCase, index) => [evalCase.id, index]));
  results.sort((a, b) => (order.get(a.caseId) ?? 0) - (order.get(b.caseId) ?? 0));
  return { home, resultsFile, results, resumed: earlier.length };
}
