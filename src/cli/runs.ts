import { openHomeStore, resumeRun } from '../agent/index.js';
import { StateError } from '../errors.js';
import type { RunStatus } from '../store/index.js';
import { type CliContext, cliRuntime } from './context.js';
import { renderAuditEvent, renderOutcome, renderRun } from './render.js';
import { selfCommand } from './self.js';

export async function listRuns(
  context: CliContext,
  options: { status?: RunStatus; limit: number },
): Promise<void> {
  const store = await openHomeStore(context.home);
  try {
    const runs = await store.runs.list({
      ...(options.status ? { status: options.status } : {}),
      limit: options.limit,
    });
    if (runs.length === 0) context.out(`no runs yet: try \`${selfCommand()} demo\``);
    for (const run of runs) context.out(renderRun(run));
  } finally {
    await store.close();
  }
}

export async function resume(context: CliContext, runId: string): Promise<void> {
  const store = await openHomeStore(context.home);
  try {
    const runtime = await cliRuntime(context);
    try {
      context.out(renderOutcome(await resumeRun(runtime.loopDeps(store), runId)));
    } finally {
      await runtime.close();
    }
  } finally {
    await store.close();
  }
}

export async function showAudit(
  context: CliContext,
  runId: string,
  options: { json: boolean },
): Promise<void> {
  const store = await openHomeStore(context.home);
  try {
    const run = await store.runs.get(runId);
    if (!run) throw new StateError(`run ${runId} does not exist; list runs with \`warden runs list\``);
    const events = await store.audit.list(runId);
    if (options.json) {
      for (const event of events) context.out(JSON.stringify(event));
      return;
    }
    context.out(
      `run ${run.id}  alert ${run.alertId} "${run.alertTitle}"  provider ${run.provider}  status ${run.status}  ${events.length} events`,
    );
    for (const event of events) context.out(renderAuditEvent(event));
  } finally {
    await store.close();
  }
}
