import {
  type GenerateOptions,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  SUBMIT_VERDICT_TOOL,
  type TextBlock,
  type ToolCallBlock,
} from '../provider.js';
import { readAlert, readSkillIndex } from './alert.js';
import { planNextCalls } from './plan.js';
import { observe } from './results.js';
import { nextCallIds, readTranscript, type Transcript } from './transcript.js';
import { composeVerdict, tightenVerdict } from './verdict.js';

export const offlineModelId = 'offline-analyst-1';

type Turn = Pick<ModelResponse, 'content' | 'stopReason'>;

function endTurn(text: string): Turn {
  return { content: [{ type: 'text', text }], stopReason: 'end_turn' };
}

function refsShown(request: ModelRequest, transcript: Transcript): Set<string> {
  const refs = new Set<string>();
  for (const block of request.messages[0]?.content ?? []) if (block.type === 'data') refs.add(block.ref);
  for (const { result } of transcript.exchanges) if (result) refs.add(result.ref);
  return refs;
}

/** The next assistant turn, derived from the request alone (no state survives between calls). */
function nextTurn(request: ModelRequest): Turn {
  const { messages } = request;
  const alert = readAlert(messages);
  const transcript = readTranscript(messages);
  const last = transcript.submissions.at(-1);
  if (last && !last.result?.isError)
    return endTurn('The verdict has been submitted; the investigation is complete.');
  if (last && transcript.submissions.length >= 2) {
    return endTurn('The verdict was rejected twice by validation; a human analyst should triage this alert.');
  }
  const tools = new Set(request.tools.map((tool) => tool.name));
  const observations = observe(alert, transcript);
  const plan = planNextCalls({
    alert,
    skillIndex: readSkillIndex(messages),
    tools,
    observations,
    transcript,
  });
  if (!last && plan.calls.length > 0) {
    const ids = nextCallIds(transcript, plan.calls.length);
    const calls: ToolCallBlock[] = plan.calls.map((call, index) => ({
      type: 'tool_call',
      id: ids[index] ?? `call_x${index}`,
      name: call.name,
      input: call.input,
    }));
    const text: TextBlock = {
      type: 'text',
      text: `Checking: ${plan.calls.map((call) => call.why).join('; ')}.`,
    };
    return { content: [text, ...calls], stopReason: 'tool_use' };
  }
  const composed = composeVerdict({ alert, observations, tools, skipped: plan.skipped });
  const verdict = last ? tightenVerdict(composed, refsShown(request, transcript)) : composed;
  const [id = 'call_verdict'] = nextCallIds(transcript, 1);
  const text = `${last ? 'Resubmitting a stricter verdict after validation' : 'Submitting the verdict'}: ${verdict.verdict} (confidence ${verdict.confidence}).`;
  return {
    content: [
      { type: 'text', text },
      { type: 'tool_call', id, name: SUBMIT_VERDICT_TOOL, input: { ...verdict } },
    ],
    stopReason: 'tool_use',
  };
}

function estimateTokens(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}

/**
 * Warden's embedded analyst: a deterministic Tier-1 triage playbook behind the model seam. No
 * key, no network; the default model and the evaluation baseline. Every call re-derives the
 * investigation from `request.messages`, so a run paused for an approval resumes anywhere.
 *
 * @example
 * const provider = createOfflineAnalyst();
 * const response = await provider.generate({ system, messages, tools });
 */
export function createOfflineAnalyst(): ModelProvider {
  return {
    name: 'offline',
    async generate(request: ModelRequest, options?: GenerateOptions): Promise<ModelResponse> {
      options?.signal?.throwIfAborted();
      const turn = nextTurn(request);
      return {
        model: offlineModelId,
        content: turn.content,
        stopReason: turn.stopReason,
        usage: { inputTokens: estimateTokens(request), outputTokens: estimateTokens(turn.content) },
      };
    },
  };
}
