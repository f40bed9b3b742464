import { writeFile } from 'node:fs/promises';
import { openHomeStore, resumeRun } from '../agent/index.js';
import {
  checkpointedRuns,
  loadSigningKey,
  type OtlpTraces,
  readCheckpoints,
  toOtlp,
  verifyChainPages,
  verifyOperatorLog,
} from '../audit/index.js';
import { BackendError, describeError, InputError, StateError } from '../errors.js';
import type { RunStatus } from '../store/index.js';
import { WARDEN_VERSION } from '../version.js';
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

/** Verifies the hash chain and signed checkpoints of the given runs, or of every run. */
export async function verifyAudit(context: CliContext, runIds: string[]): Promise<boolean> {
  const key = loadSigningKey(context.home);
  const store = await openHomeStore(context.home);
  try {
    // Every run anything knows of: a run whose rows were all deleted still has its signed checkpoints.
    const ids =
      runIds.length > 0
        ? runIds
        : [
            ...new Set([
              ...(await store.runs.list({ limit: 100_000 })).map((run) => run.id).reverse(),
              ...(await store.audit.runIds()),
              ...checkpointedRuns(context.home),
            ]),
          ];
    let intact = true;
    for (const runId of ids) {
      const { checkpoints, problems } = readCheckpoints(context.home, runId, key);
      // Read page by page; only a chain found broken is read whole, to name its first bad event.
      const report = await verifyChainPages(runId, store.audit.chainPages(runId), checkpoints, problems, () =>
        store.audit.chain(runId),
      );
      if (report.events === 0 && checkpoints.length === 0 && !(await store.runs.get(runId)))
        throw new StateError(`run ${runId} does not exist`);
      if (report.status === 'ok') {
        context.out(
          `${runId}  ok  ${report.events} events${report.checkpointedSeq ? `, signed through ${report.checkpointedSeq}` : ', no signed checkpoint'}`,
        );
      } else {
        intact = false;
        context.out(`${runId}  BROKEN at event ${report.firstBadSeq}: ${report.problem} — ${report.detail}`);
      }
    }
    const operator = verifyOperatorLog(context.home, key);
    if (operator.status === 'ok') {
      if (operator.events > 0) context.out(`operator log  ok  ${operator.events} signed entries`);
    } else {
      intact = false;
      context.out(`operator log  BROKEN at entry ${operator.firstBadSeq}: ${operator.problem}`);
    }
    context.out(
      intact ? `${ids.length} run(s) verified` : 'the audit trail has been tampered with or damaged',
    );
    return intact;
  } finally {
    await store.close();
  }
}

/** Exports runs as OTLP/JSON traces to a file or an OTLP/HTTP endpoint. */
export async function exportAudit(
  context: CliContext,
  runIds: string[],
  options: { file?: string; endpoint?: string },
): Promise<void> {
  if (!options.file === !options.endpoint)
    throw new InputError('give exactly one of --otlp-file <path> or --otlp-endpoint <url>');
  const store = await openHomeStore(context.home);
  let traces: OtlpTraces;
  try {
    const ids =
      runIds.length > 0 ? runIds : (await store.runs.list({ limit: 100_000 })).map((run) => run.id).reverse();
    const runs = [];
    for (const runId of ids) {
      const events = await store.audit.list(runId);
      if (events.length === 0)
        throw new StateError(`run ${runId} has no audit events; list runs with \`warden runs list\``);
      runs.push({ runId, events });
    }
    traces = toOtlp(runs, WARDEN_VERSION);
  } finally {
    await store.close();
  }
  const spans = traces.resourceSpans[0]?.scopeSpans[0]?.spans.length ?? 0;
  if (options.file) {
    await writeFile(options.file, `${JSON.stringify(traces)}\n`);
    context.out(`wrote ${spans} spans to ${options.file}`);
    return;
  }
  const endpoint = options.endpoint ?? '';
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(traces),
  }).catch((error: unknown) => {
    throw new BackendError(`cannot reach the OTLP endpoint ${endpoint}: ${describeError(error)}`, {
      cause: error,
    });
  });
  if (!response.ok)
    throw new BackendError(
      `the OTLP endpoint ${endpoint} answered ${response.status} ${response.statusText}`,
    );
  context.out(`sent ${spans} spans to ${endpoint}`);
}
