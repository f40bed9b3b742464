import type { AuditAppend } from '../capability/gateway/index.js';
import type { CostMeter } from '../control/index.js';
import { describeError, ModelBehaviorError, ModelUnavailableError } from '../errors.js';
import type { ModelProvider, ModelRequest, ModelResponse, TokenUsage } from '../model/index.js';
import type { LoopState } from './state.js';

/** Malformed replies in a row the loop asks again for before it escalates to a human. */
export const MAX_MALFORMED_REPLIES = 2;

export type ModelTurn =
  | { type: 'response'; response: ModelResponse }
  /** The reply was unusable; a note asking again was added to the conversation. */
  | { type: 'again' }
  | { type: 'escalate'; reason: string };

export interface ModelTurnDeps {
  provider: ModelProvider;
  /** Where the run continues when `provider` is unreachable (the offline analyst), or null. */
  fallbackProvider?: ModelProvider | null;
  audit: AuditAppend;
  now: () => Date;
  signal: AbortSignal;
  /** Prices each response from the per-model table; its cost counts toward limits.maxCostUsd. */
  meter?: CostMeter;
}

/** Every token the call consumed, cached or not: what the run's token budget counts. */
export function tokensUsed(usage: TokenUsage): number {
  return (
    usage.inputTokens + usage.outputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0)
  );
}

/** The line a degraded run's verdict starts with. */
export function fallbackLine(state: LoopState): string | null {
  const fallback = state.modelFallback;
  return fallback ? `[degraded] model API unreachable (${fallback.reason}); offline analyst verdict.` : null;
}

/**
 * Asks the model for the next turn. An unreachable API switches the run to the fallback provider
 * (audited `model-fallback`, kept for the rest of the run); an unusable reply is audited and asked
 * again up to MAX_MALFORMED_REPLIES times. Anything else propagates and fails the run.
 */
export async function takeModelTurn(
  deps: ModelTurnDeps,
  state: LoopState,
  request: ModelRequest,
): Promise<ModelTurn> {
  const { audit, signal } = deps;
  const fallback = deps.fallbackProvider ?? null;
  const provider = state.modelFallback && fallback ? fallback : deps.provider;
  await audit('model-request', {
    turn: state.turns,
    provider: provider.name,
    messages: request.messages.length,
    tools: request.tools.map((tool) => tool.name),
  });
  let response: ModelResponse;
  try {
    response = await provider.generate(request, { signal });
  } catch (error) {
    await audit('model-response', {
      turn: state.turns,
      provider: provider.name,
      error: describeError(error),
      ...(error instanceof Error && 'code' in error ? { code: error.code } : {}),
    });
    if (signal.aborted) throw error;
    if (error instanceof ModelUnavailableError && fallback && provider !== fallback) {
      state.modelFallback = {
        from: provider.name,
        to: fallback.name,
        reason: error.message,
        at: deps.now().toISOString(),
      };
      await audit('model-fallback', state.modelFallback);
      return takeModelTurn(deps, state, request);
    }
    if (error instanceof ModelBehaviorError) {
      state.malformedReplies = (state.malformedReplies ?? 0) + 1;
      if (state.malformedReplies > MAX_MALFORMED_REPLIES)
        return {
          type: 'escalate',
          reason: `the model's reply was unusable ${state.malformedReplies} times (${error.message}); a human must triage this alert`,
        };
      state.messages.push({
        role: 'user',
        content: [
          {
            type: 'text',
            text: `Your last reply could not be used: ${error.message}. Reply again: call tools with a JSON object of arguments, or call submit_verdict.`,
          },
        ],
      });
      return { type: 'again' };
    }
    throw error;
  }
  state.malformedReplies = 0;
  const cost = deps.meter?.costOf(response.model, response.usage);
  if (cost) state.costUsd = (state.costUsd ?? 0) + cost.costUsd;
  await audit('model-response', {
    turn: state.turns,
    provider: provider.name,
    model: response.model,
    stopReason: response.stopReason,
    usage: response.usage,
    ...(cost ? { costUsd: cost.costUsd, ...(cost.note ? { costNote: cost.note } : {}) } : {}),
    content: response.content,
  });
  return { type: 'response', response };
}
