import type { AuditAppend, CallContext, Gateway } from '../capability/gateway/index.js';
import type { InjectionClassifier } from '../control/index.js';
import type { Skill } from '../knowledge/index.js';
import { SUBMIT_VERDICT_TOOL, type ToolResultBlock, type Trust } from '../model/provider.js';
import type { ApprovalRecord } from '../store/index.js';
import { checkVerdict, LOAD_SKILL_TOOL, READ_SKILL_RESOURCE_TOOL } from './local-tools.js';
import { fallbackLine } from './model-turn.js';
import { callGuards, observeResult } from './provenance.js';
import { tierOf } from './queue.js';
import { compactForModel, fitForModel } from './shrink.js';
import { loadSkillCall, readResourceCall } from './skill-calls.js';
import type { ActionOutcome, LoopState, PendingCall } from './state.js';
import { isSubtaskTool, runSubtask, type SubtaskEnvironment } from './subtasks.js';
import type { Verdict } from './verdict.js';

export type CallStep =
  | { type: 'result'; block: ToolResultBlock }
  | { type: 'verdict'; verdict: Verdict; block: ToolResultBlock }
  | { type: 'invalid_verdict'; message: string; block: ToolResultBlock }
  | { type: 'pause'; approval: ApprovalRecord };

export interface CallEnvironment {
  gateway: Gateway;
  skills: readonly Skill[];
  /** Largest tool result, in JSON characters, shown to the model (limits.maxResultChars). */
  maxResultChars: number;
  /** Sub-task sub-agents (summarise_logs, extract_indicators); absent: such calls reach the gateway, which knows no such tool. */
  subtasks?: SubtaskEnvironment;
  context: Omit<CallContext, 'callId' | 'toolCallsSoFar' | 'actionsSoFar' | 'receipt'>;
  /** Injection detectors run over every untrusted result (the pattern detector by default). */
  classifiers: readonly InjectionClassifier[];
}

function resultBlock(
  call: PendingCall,
  ref: string,
  value: unknown,
  options: { isError: boolean; trust: Trust },
): ToolResultBlock {
  return {
    type: 'tool_result',
    callId: call.id,
    name: call.name,
    ref,
    isError: options.isError,
    trust: options.trust,
    value,
  };
}

/** A failure Warden itself reports for a call (not a tool's own output): audited, then shown to the model. */
export async function failCall(
  audit: AuditAppend,
  call: PendingCall,
  error: string,
  message: string,
): Promise<ToolResultBlock> {
  const value = { error, message };
  const event = await audit('tool-call-result', { callId: call.id, tool: call.name, isError: true, value });
  return resultBlock(call, event.id, value, { isError: true, trust: 'trusted' });
}

/** Runs one pending call: loop-local tools here, everything else through the gateway. */
export async function runCall(
  environment: CallEnvironment,
  state: LoopState,
  call: PendingCall,
  receipt?: string,
): Promise<CallStep> {
  const { audit } = environment.context;
  if (call.name === SUBMIT_VERDICT_TOOL && call.origin === 'model') {
    state.verdictAttempts++;
    const check = checkVerdict(call.input, state.knownRefs);
    if (check.type === 'invalid') {
      const block = await failCall(audit, call, 'invalid_verdict', check.message);
      return { type: 'invalid_verdict', message: check.message, block };
    }
    const degraded = fallbackLine(state);
    const verdict = degraded
      ? { ...check.verdict, summary: `${degraded} ${check.verdict.summary}`.slice(0, 4000) }
      : check.verdict;
    const event = await audit('run-verdict', {
      callId: call.id,
      verdict,
      ...(state.modelFallback ? { modelFallback: state.modelFallback } : {}),
    });
    const block = resultBlock(call, event.id, { accepted: true }, { isError: false, trust: 'trusted' });
    return { type: 'verdict', verdict, block };
  }
  if ((call.name === LOAD_SKILL_TOOL || call.name === READ_SKILL_RESOURCE_TOOL) && call.origin === 'model') {
    const load = call.name === LOAD_SKILL_TOOL ? loadSkillCall : readResourceCall;
    const loaded = await load(audit, environment.skills, call);
    if (loaded.type === 'error')
      return { type: 'result', block: await failCall(audit, call, loaded.error, loaded.message) };
    return {
      type: 'result',
      block: resultBlock(call, loaded.ref, loaded.value, { isError: false, trust: 'trusted' }),
    };
  }
  if (isSubtaskTool(call.name) && call.origin === 'model' && environment.subtasks) {
    const subtasks = environment.subtasks;
    const outcome = await runSubtask(
      {
        ...subtasks,
        // Only refs the model was shown in this run: a sub-task cannot reach other data.
        resolveRef: (ref) =>
          state.knownRefs.includes(ref) ? subtasks.resolveRef(ref) : Promise.resolve(undefined),
      },
      call,
    );
    state.tokens += outcome.tokens;
    const trust = outcome.isError ? 'trusted' : 'untrusted';
    return {
      type: 'result',
      block: resultBlock(call, outcome.auditId, outcome.value, { isError: outcome.isError, trust }),
    };
  }
  const spec = environment.gateway.tools.find((tool) => tool.name === call.name);
  const outcome = await environment.gateway.call(
    {
      ...environment.context,
      callId: call.id,
      toolCallsSoFar: state.toolCalls,
      actionsSoFar: state.actionCounts,
      ...(receipt ? { receipt } : {}),
      ...callGuards(state.provenance, state.messages, call.input, spec?.inputSchema),
    },
    call.name,
    call.input,
  );
  if (outcome.type === 'executed' && state.provenance)
    await observeResult(state.provenance, {
      callId: call.id,
      ref: outcome.ref,
      args: call.input,
      value: outcome.value,
      labels: outcome.labels,
      classifiers: environment.classifiers,
      audit,
    });
  const tier = outcome.tier ?? tierOf(environment.gateway, call.name);
  if (
    (outcome.type === 'executed' || outcome.type === 'approval_required') &&
    !receipt &&
    (tier === 'reversible' || tier === 'destructive')
  )
    state.actionCounts[tier]++;
  state.toolCalls++;
  if (outcome.type === 'approval_required') return { type: 'pause', approval: outcome.approval };
  if (outcome.type === 'denied' || outcome.type === 'suggested') {
    const value =
      outcome.type === 'denied'
        ? { error: 'policy_denied', message: outcome.reason }
        : { error: 'suggested_only', message: outcome.reason };
    return {
      type: 'result',
      block: resultBlock(call, outcome.ref, value, { isError: true, trust: 'trusted' }),
    };
  }
  if (outcome.notified) state.notified = [...(state.notified ?? []), outcome.ref];
  const shown = fitForModel(compactForModel(outcome.value), environment.maxResultChars);
  return {
    type: 'result',
    block: {
      ...resultBlock(call, outcome.ref, shown, {
        isError: outcome.isError,
        trust: 'untrusted',
      }),
      labels: outcome.labels,
    },
  };
}

/** Files a call's result: back to the model for its own calls, into the action list for recommendations. */
export function recordResult(
  state: LoopState,
  call: PendingCall,
  block: ToolResultBlock,
  approvalId: string | null,
): void {
  state.knownRefs.push(block.ref);
  if (call.origin === 'model') {
    state.turnResults.push(block);
    return;
  }
  const value = (block.value ?? {}) as { error?: string; message?: string; detail?: string };
  const status: ActionOutcome['status'] = !block.isError
    ? 'executed'
    : value.error === 'policy_denied'
      ? 'denied'
      : value.error === 'suggested_only'
        ? 'suggested'
        : value.error === 'approval_denied'
          ? 'rejected'
          : 'failed';
  state.actions.push({
    tool: call.name,
    args: call.input,
    status,
    detail: block.isError ? (value.message ?? 'failed') : (value.detail ?? 'done'),
    ref: block.ref,
    approvalId,
    ...(state.notified?.includes(block.ref) ? { notified: true } : {}),
  });
}
