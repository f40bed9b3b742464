import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Alert,
  openHomeStore,
  parseAlerts,
  type RunOutcome,
  type Runtime,
  registerWaiter,
  resumeRun,
  startRun,
  unregisterWaiter,
  waitForSignal,
} from '../agent/index.js';
import { InputError } from '../errors.js';
import { type CliContext, cliRuntime } from './context.js';
import { renderOutcome } from './render.js';

export const sampleAlertsDirectory = fileURLToPath(new URL('../../examples/alerts/', import.meta.url));

/** Reads alerts from a file, or standard input for `-`. */
export async function readAlerts(path: string): Promise<Alert[]> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return parseAlerts(Buffer.concat(chunks).toString('utf8'), 'stdin');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(
      `cannot read alert file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { cause: error },
    );
  }
  return parseAlerts(text, path);
}

export async function readSampleAlerts(): Promise<Alert[]> {
  const files = (await readdir(sampleAlertsDirectory)).filter((file) => file.endsWith('.json')).sort();
  const alerts: Alert[] = [];
  for (const file of files)
    alerts.push(
      ...parseAlerts(await readFile(join(sampleAlertsDirectory, file), 'utf8'), `examples/alerts/${file}`),
    );
  return alerts;
}

const WAITER_LOCK_TIMEOUT_MS = 10 * 60_000;

/** Waits for decisions on paused runs (made by `warden approvals` in another process) and resumes them here. */
async function waitAndResume(
  runtime: Runtime,
  context: CliContext,
  paused: RunOutcome[],
): Promise<RunOutcome[]> {
  const runIds = paused.map((outcome) => outcome.runId);
  // The approval each run was last shown waiting for; a resumed run may pause again on its next action.
  const shownApproval = new Map(paused.map((outcome) => [outcome.runId, outcome.pendingApproval?.id]));
  const pending = new Set(runIds);
  const finished: RunOutcome[] = [];
  await Promise.all(runIds.map((runId) => registerWaiter(context.home, runId)));
  try {
    let candidates = [...pending];
    while (pending.size > 0) {
      const store = await openHomeStore(context.home, WAITER_LOCK_TIMEOUT_MS);
      let nextExpiry = Number.POSITIVE_INFINITY;
      try {
        for (const runId of candidates) {
          const outcome = await resumeRun(runtime.loopDeps(store), runId);
          if (outcome.status === 'awaiting_approval' && outcome.pendingApproval) {
            nextExpiry = Math.min(nextExpiry, Date.parse(outcome.pendingApproval.expiresAt));
            if (shownApproval.get(runId) !== outcome.pendingApproval.id) context.out(renderOutcome(outcome));
            shownApproval.set(runId, outcome.pendingApproval.id);
            continue;
          }
          context.out(renderOutcome(outcome));
          finished.push(outcome);
          pending.delete(runId);
          await unregisterWaiter(context.home, runId);
        }
      } finally {
        await store.close();
      }
      if (pending.size === 0) break;
      context.out(
        `waiting for a decision on ${pending.size} run(s): ${[...pending].join(', ')} (Ctrl-C to stop waiting; the runs stay paused)`,
      );
      const signalled = await waitForSignal(context.home, [...pending], {
        timeoutMs: Math.max(1000, nextExpiry - Date.now() + 1000),
      });
      candidates = signalled ? [signalled] : [...pending];
    }
  } finally {
    await Promise.all([...pending].map((runId) => unregisterWaiter(context.home, runId)));
  }
  return finished;
}

/** Triages alerts one after another; with `wait`, stays to resume runs that pause for an approval. */
export async function triageAlerts(
  context: CliContext,
  alerts: Alert[],
  options: { wait: boolean; request?: string },
): Promise<RunOutcome[]> {
  const runtime = await cliRuntime(context);
  try {
    for (const problem of runtime.skillProblems)
      process.stderr.write(
        `warden: ${problem.severity === 'error' ? 'skipped skill' : 'skill warning'} ${problem.path}: ${problem.message} (\`warden skills lint\`)\n`,
      );
    const outcomes: RunOutcome[] = [];
    const store = await openHomeStore(context.home);
    try {
      for (const alert of alerts) {
        const outcome = await startRun(
          runtime.loopDeps(store),
          alert,
          options.request ? { request: options.request } : {},
        );
        context.out(renderOutcome(outcome));
        outcomes.push(outcome);
      }
    } finally {
      await store.close();
    }
    const paused = outcomes.filter((outcome) => outcome.status === 'awaiting_approval');
    if (options.wait && paused.length > 0)
      return [
        ...outcomes.filter((outcome) => outcome.status !== 'awaiting_approval'),
        ...(await waitAndResume(runtime, context, paused)),
      ];
    return outcomes;
  } finally {
    await runtime.close();
  }
}
