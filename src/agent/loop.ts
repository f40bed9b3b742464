import { randomBytes } from 'node:crypto';
import type { Gateway } from '../capability/gateway/index.js';
import type { WardenConfig } from '../config/index.js';
import {
  type AutonomyBook,
  createCostMeter,
  createPatternClassifier,
  type Dlp,
  type InjectionClassifier,
  isExpired,
  type KillSwitchBoard,
  policyConfigOf,
} from '../control/index.js';
import { describeError, StateError } from '../errors.js';
import type { Skill } from '../knowledge/index.js';
import type { ModelProvider, SubtaskName, ToolCallBlock } from '../model/index.js';
import type { ApprovalRecord, AuditEventRecord, RunStatus, Store } from '../store/index.js';
import type { Alert } from './alert.js';
import { type CallEnvironment, failCall, recordResult, runCall } from './calls.js';
import { guardRun, type RunStop } from './guard.js';
import { localToolSpecs } from './local-tools.js';
import { takeModelTurn, tokensUsed } from './model-turn.js';
import { firstMessage, SYSTEM_PROMPT } from './prompt.js';
import { redactModelRequest, scanAlert } from './provenance.js';
import { queuedBehind, recommendationCalls } from './queue.js';
import { resolveRef } from './refs.js';
import { type ActionOutcome, initialState, type LoopState, type PendingCall } from './state.js';
import { subtaskToolSpecs } from './subtasks.js';
import type { Verdict } from './verdict.js';

export interface LoopDeps {
  store: Store;
  gateway: Gateway;
  provider: ModelProvider;
  /** Where a run continues when the provider's API is unreachable (config model.fallback), or null. */
  fallbackProvider?: ModelProvider | null;
  /** Cheaper models for sub-tasks; absent or null runs them with local heuristics. */
  subtaskProviders?: Record<SubtaskName, ModelProvider> | null;
  skills: readonly Skill[];
  config: WardenConfig;
  /** Engaged kill switches; a switch for everything or this run ends it `killed`. */
  killSwitches?: KillSwitchBoard;
  /** Autonomy levels per action class, reloaded (and demoted where evidence fell) at every run start and resume. */
  autonomy?: AutonomyBook;
  /** Signs a checkpoint of the run's audit chain head (see audit/checkpoint.ts). */
  checkpoint?: (head: { runId: string; seq: number; hash: string }) => void;
  now?: () => Date;
  signal?: AbortSignal;
  /** Injection detectors over untrusted data; default: the built-in patterns. */
  injectionClassifiers?: readonly InjectionClassifier[];
  /** Leak prevention for model requests of lower clearance (and, through the gateway, write sinks). */
  dlp?: Dlp;
}

export interface RunOutcome {
  runId: string;
  alert: Alert;
  status: RunStatus;
  verdict: Verdict | null;
  actions: ActionOutcome[];
  pendingApproval: ApprovalRecord | null;
  /** Recommended actions still queued behind the pending approval. */
  queuedActions: PendingCall[];
  error: string | null;
}

const MAX_VERDICT_ATTEMPTS = 2;
const MAX_NUDGES = 1;
const CHECKPOINT_EVERY = 100;
const checkpointAfter = new Set(['tool-approval-request', 'run-end']);

const defaultClassifiers = [createPatternClassifier()];

export function newRunId(): string {
  return `run-${randomBytes(6).toString('hex')}`;
}

function session(deps: LoopDeps, runId: string, signal?: AbortSignal) {
  const now = deps.now ?? (() => new Date());
  // Signed checkpoints: at every pause and end, and every CHECKPOINT_EVERY events in between; only
  // of committed events, so a checkpoint never covers an event a crash could still lose.
  const checkpoint = (event: AuditEventRecord) => {
    if (deps.checkpoint && (event.seq % CHECKPOINT_EVERY === 0 || checkpointAfter.has(event.type)))
      deps.checkpoint(event);
  };
  // A queued event whose write (or checkpoint) failed: the run's trail has a hole from there, so
  // nothing more is recorded (the next number would go to another event) and the run stops at its
  // next append.
  let lost: unknown = null;
  const broken = () =>
    lost === null
      ? null
      : `the audit trail of run ${runId} could not record an event: ${describeError(lost)}`;
  const intact = () => {
    const problem = broken();
    if (problem) throw new StateError(problem, { cause: lost });
  };
  const audit = async (type: string, data: unknown) => {
    intact();
    const event = await deps.store.audit.append(runId, type, data, now().toISOString());
    checkpoint(event);
    return event;
  };
  // For events no side effect waits on (a tool's result): numbered at once, committed with the next
  // write. Every side effect of the run waits for a later commit first (a call's write-ahead, the end),
  // and a run's events commit in order.
  const auditQueued = async (type: string, data: unknown) => {
    intact();
    const { event, committed } = await deps.store.audit.enqueue(runId, type, data, now().toISOString());
    committed.then(checkpoint).catch((error: unknown) => {
      lost ??= error;
    });
    intact();
    return event;
  };
  const runSignal = signal ?? deps.signal;
  const environment: CallEnvironment = {
    gateway: deps.gateway,
    skills: deps.skills,
    maxResultChars: deps.config.limits.maxResultChars,
    classifiers: deps.injectionClassifiers ?? defaultClassifiers,
    subtasks: {
      providers: deps.subtaskProviders ?? null,
      resolveRef: (ref: string) => resolveRef(deps.store, runId, ref),
      audit,
      ...(deps.dlp ? { dlp: deps.dlp } : {}),
      ...(runSignal ? { signal: runSignal } : {}),
    },
    context: {
      runId,
      audit,
      auditQueued,
      approvals: deps.store.approvals,
      now,
      ...(runSignal ? { signal: runSignal } : {}),
    },
  };
  return { now, audit, environment, broken };
}

/** Starts a new investigation of one alert and runs it until it ends or pauses for an approval. */
export async function startRun(
  deps: LoopDeps,
  alert: Alert,
  options: {
    runId?: string;
    /** The analyst's own request (free text, trusted: the values it names may drive actions). */
    request?: string;
  } = {},
): Promise<RunOutcome> {
  const runId = options.runId ?? newRunId();
  const { now, audit } = session(deps, runId);
  await deps.store.runs.create({
    id: runId,
    alertId: alert.id,
    alertTitle: alert.title,
    provider: deps.provider.name,
    state: null,
    at: now().toISOString(),
  });
  const demoted = deps.autonomy ? await deps.autonomy.refresh(deps.store.autonomy, now()) : [];
  const start = await audit('run-start', {
    alert,
    provider: deps.provider.name,
    tools: deps.gateway.tools.map((tool) => ({
      name: tool.name,
      tier: tool.tier,
      tierSource: tool.tierSource,
      bundledKind: tool.bundledKind,
      // Replay serves the same schemas: taint assessment reads them (enums are not entities).
      inputSchema: tool.inputSchema,
    })),
    skills: deps.skills.map((skill) => ({ name: skill.name, hash: skill.hash })),
    policyVersion: deps.gateway.policy.version,
    policy: policyConfigOf(deps.config),
    ...(options.request ? { request: options.request } : {}),
    ...(demoted.length > 0 ? { autonomyDemotions: demoted } : {}),
  });
  const state = initialState(
    alert,
    firstMessage(alert, deps.skills, start.id, options.request),
    start.id,
    options.request,
  );
  if (state.provenance)
    await scanAlert(
      state.provenance,
      alert,
      start.id,
      deps.injectionClassifiers ?? defaultClassifiers,
      audit,
    );
  return advance(deps, runId, state);
}

/**
 * Continues a run paused on an approval, in whatever process calls it. Claiming the run is
 * atomic, so of several processes resuming at once exactly one proceeds.
 */
export async function resumeRun(deps: LoopDeps, runId: string): Promise<RunOutcome> {
  const { now, audit, environment } = session(deps, runId);
  const run = await deps.store.runs.get(runId);
  if (!run) throw new StateError(`run ${runId} does not exist; see \`warden runs list\``);
  const state = run.state as LoopState;
  if (run.status !== 'awaiting_approval' || !state?.awaiting) return outcomeOf(deps, runId);
  let approval = await deps.store.approvals.get(state.awaiting.approvalId);
  if (!approval)
    throw new StateError(
      `run ${runId} waits for approval ${state.awaiting.approvalId}, which does not exist`,
    );
  if (approval.status === 'pending' && !isExpired(approval, now())) return outcomeOf(deps, runId);
  if (!(await deps.store.runs.claim(runId, ['awaiting_approval'], now().toISOString())))
    return outcomeOf(deps, runId);
  await deps.autonomy?.refresh(deps.store.autonomy, now());

  if (approval.status === 'pending') {
    approval =
      (await deps.store.approvals.decide(approval.id, {
        status: 'expired',
        by: 'warden',
        note: 'expired before a decision',
        at: now().toISOString(),
      })) ?? approval;
    await audit('tool-approval-response', {
      approvalId: approval.id,
      status: 'expired',
      by: 'warden',
      note: 'expired before a decision',
    });
  }
  const call = state.awaiting.call;
  state.awaiting = null;
  state.queue.shift();
  if (approval.status === 'approved') {
    const step = await runCall(environment, state, call, approval.id);
    if (step.type === 'result') recordResult(state, call, step.block, approval.id);
  } else {
    const message = `${approval.status} by ${approval.decidedBy ?? 'unknown'}${approval.decisionNote ? `: ${approval.decisionNote}` : ''}`;
    const block = await failCall(audit, call, 'approval_denied', message);
    recordResult(state, call, block, approval.id);
  }
  return advance(deps, runId, state);
}

async function outcomeOf(deps: LoopDeps, runId: string): Promise<RunOutcome> {
  const run = await deps.store.runs.get(runId);
  if (!run) throw new StateError(`run ${runId} does not exist`);
  const state = run.state as LoopState | null;
  const pendingApproval = state?.awaiting ? await deps.store.approvals.get(state.awaiting.approvalId) : null;
  return {
    runId,
    alert: state?.alert ?? ({ id: run.alertId, title: run.alertTitle } as Alert),
    status: run.status,
    verdict: (run.verdict as Verdict | null) ?? null,
    actions: state?.actions ?? [],
    pendingApproval: run.status === 'awaiting_approval' ? pendingApproval : null,
    queuedActions: run.status === 'awaiting_approval' && state ? queuedBehind(state) : [],
    error: run.error,
  };
}

/** Drives the loop: drain queued calls, then ask the model, until a verdict and its actions are done. */
async function advance(deps: LoopDeps, runId: string, state: LoopState): Promise<RunOutcome> {
  const clock = deps.now ?? (() => new Date());
  const guard = guardRun({
    runId,
    state,
    config: deps.config,
    now: clock,
    ...(deps.killSwitches ? { killSwitches: deps.killSwitches } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const { now, audit, environment, broken } = session(deps, runId, guard.signal);
  const meter = createCostMeter(deps.config.pricing);
  const tools = [
    ...deps.gateway.tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
    ...localToolSpecs(deps.skills),
    ...subtaskToolSpecs(),
  ];
  const save = (status: RunStatus, error: string | null = null) => {
    return deps.store.runs.update(
      runId,
      { status, state: { ...state, activeMs: guard.elapsedMs() }, verdict: state.verdict, error },
      now().toISOString(),
    );
  };
  const finish = async (ended: RunStatus, reason: string | null = null): Promise<RunOutcome> => {
    state.activeMs = guard.elapsedMs();
    // A trail that lost an event takes no more events: the run fails, its credentials are still
    // revoked (before their revocation would be recorded), and the runs table says why.
    const lostEvent = broken();
    const status = lostEvent ? 'failed' : ended;
    const error = lostEvent ?? reason;
    if (lostEvent) {
      await deps.gateway.endRun(runId, `run ${status}`, audit).catch(() => {});
    } else {
      await deps.gateway.endRun(runId, `run ${status}`, audit);
      await audit('run-end', {
        status,
        error,
        toolCalls: state.toolCalls,
        turns: state.turns,
        tokens: state.tokens,
        costUsd: state.costUsd ?? 0,
        activeMs: state.activeMs,
      });
    }
    await save(status, error);
    return {
      runId,
      alert: state.alert,
      status,
      verdict: state.verdict,
      actions: state.actions,
      pendingApproval: null,
      queuedActions: [],
      error,
    };
  };
  const stop = async (reason: RunStop): Promise<RunOutcome> => {
    if (broken()) return finish('failed');
    if (reason.type === 'killed') {
      const { engaged } = reason;
      await audit('kill-switch-engage', {
        switchId: engaged.id,
        scope: engaged.scope,
        engagedBy: engaged.engagedBy,
        engagedAt: engaged.engagedAt,
        reason: engaged.reason,
      });
      return finish('killed', reason.reason);
    }
    await audit('budget-exceeded', { cap: reason.cap, limit: reason.limit, used: reason.used });
    return finish('escalated', `${reason.reason}; a human must triage this alert`);
  };

  try {
    for (;;) {
      const halt = guard.check();
      if (halt) return await stop(halt);
      const call = state.queue[0];
      if (call) {
        const step = await runCall(environment, state, call);
        if (step.type === 'pause') {
          state.awaiting = { approvalId: step.approval.id, call };
          // The revocation follows the approval request's checkpoint: signed too, so the paused trail's
          // last event is covered and a cut tail shows until the run resumes.
          await deps.gateway.endRun(runId, 'run paused for an approval', async (type, data) => {
            const event = await audit(type, data);
            deps.checkpoint?.(event);
            return event;
          });
          state.activeMs = guard.elapsedMs();
          await save('awaiting_approval');
          return {
            runId,
            alert: state.alert,
            status: 'awaiting_approval',
            verdict: state.verdict,
            actions: state.actions,
            pendingApproval: step.approval,
            queuedActions: queuedBehind(state),
            error: null,
          };
        }
        state.queue.shift();
        recordResult(state, call, step.block, null);
        if (step.type === 'verdict') {
          state.verdict = step.verdict;
          state.turnResults = [];
          const { minConfidence } = deps.config.control;
          if (step.verdict.confidence < minConfidence) {
            // Confidence pause: the human decides; nothing the verdict recommends is attempted.
            for (const action of recommendationCalls(step.verdict, deps.gateway)) {
              state.actions.push({
                tool: action.name,
                args: action.input,
                status: 'withheld',
                detail: 'verdict escalated for low confidence',
                ref: null,
                approvalId: null,
              });
            }
            state.queue = [];
            return await finish(
              'escalated',
              `confidence ${step.verdict.confidence} is below control.minConfidence (${minConfidence}); escalated to a human, no action taken`,
            );
          }
          state.queue = recommendationCalls(step.verdict, deps.gateway);
        } else if (step.type === 'invalid_verdict' && state.verdictAttempts >= MAX_VERDICT_ATTEMPTS) {
          return await finish(
            'escalated',
            `the model's verdict was invalid ${state.verdictAttempts} times (${step.message}); a human must triage this alert`,
          );
        }
        // One snapshot per drained turn, not per call: the state carries the whole conversation, so
        // rewriting it after every call cost more than the calls (a pause, a stop and the end still save).
        if (state.queue.length === 0) await save('running');
        continue;
      }
      if (state.verdict) return await finish('completed');
      if (state.turnResults.length > 0) {
        state.messages.push({ role: 'user', content: state.turnResults });
        state.turnResults = [];
      }
      if (state.turns >= deps.config.limits.maxTurns) {
        return await finish(
          'escalated',
          `limits.maxTurns (${deps.config.limits.maxTurns}) reached without a verdict; a human must triage this alert`,
        );
      }
      state.turns++;
      const turn = await takeModelTurn(
        {
          provider: deps.provider,
          fallbackProvider: deps.fallbackProvider ?? null,
          audit,
          now,
          signal: guard.signal,
          meter,
        },
        state,
        await redactModelRequest(
          deps.dlp,
          deps.provider.name,
          { system: SYSTEM_PROMPT, messages: state.messages, tools },
          audit,
        ),
      );
      if (turn.type === 'escalate') return await finish('escalated', turn.reason);
      if (turn.type === 'again') {
        await save('running');
        continue;
      }
      const { response } = turn;
      state.tokens += tokensUsed(response.usage);
      state.messages.push({ role: 'assistant', content: response.content });
      const calls = response.content.filter((block): block is ToolCallBlock => block.type === 'tool_call');
      if (calls.length === 0) {
        if (state.nudges >= MAX_NUDGES)
          return await finish(
            'escalated',
            'the model stopped without submitting a verdict; a human must triage this alert',
          );
        state.nudges++;
        state.messages.push({
          role: 'user',
          content: [
            { type: 'text', text: 'Continue the investigation with the tools, or call submit_verdict.' },
          ],
        });
        continue;
      }
      state.queue = calls.map((block) => ({
        id: block.id,
        name: block.name,
        input: block.input,
        origin: 'model' as const,
      }));
      await save('running');
    }
  } catch (error) {
    const halt = guard.check();
    if (halt) return stop(halt);
    return finish('failed', describeError(error));
  } finally {
    guard.close();
  }
}
