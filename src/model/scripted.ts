import { ProviderError } from '../errors.js';
import type {
  GenerateOptions,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  TextBlock,
  ToolCallBlock,
} from './provider.js';

/** One hand-written assistant turn; missing fields get sensible defaults. */
export interface ScriptedTurn {
  content: Array<TextBlock | ToolCallBlock>;
  stopReason?: ModelResponse['stopReason'];
  model?: string;
  usage?: ModelResponse['usage'];
}

/** A script: turns in order, or a function of the request and the turn index (0-based; undefined = out of turns). */
export type Script =
  | readonly ScriptedTurn[]
  | ((request: ModelRequest, turnIndex: number) => ScriptedTurn | undefined);

export interface ScriptedProvider extends ModelProvider {
  /** Deep copies of every request received, in order, so tests can assert what the model was shown. */
  readonly requests: ModelRequest[];
}

function estimateTokens(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}

/**
 * Replays hand-written assistant turns: no key, no network, what tests drive the loop with.
 * The turn index is the number of assistant messages already in the request, so a fresh
 * provider given a stored transcript continues where the run paused, like a real model.
 *
 * @example
 * const provider = createScriptedProvider([
 *   { content: [{ type: 'tool_call', id: 'call_1', name: 'edr.host_summary', input: { host: 'WS1' } }] },
 *   { content: [{ type: 'tool_call', id: 'call_2', name: 'submit_verdict', input: verdict }] },
 * ]);
 */
export function createScriptedProvider(script: Script, options: { name?: string } = {}): ScriptedProvider {
  const requests: ModelRequest[] = [];
  return {
    name: options.name ?? 'scripted',
    requests,
    async generate(request: ModelRequest, generateOptions?: GenerateOptions): Promise<ModelResponse> {
      generateOptions?.signal?.throwIfAborted();
      requests.push(structuredClone(request));
      const turnIndex = request.messages.filter((message) => message.role === 'assistant').length;
      let turn: ScriptedTurn | undefined;
      if (typeof script === 'function') {
        try {
          turn = script(request, turnIndex);
        } catch (error) {
          throw new ProviderError(`scripted provider: the script failed at turn ${turnIndex + 1}`, {
            cause: error,
          });
        }
      } else {
        turn = script[turnIndex];
      }
      if (!turn) {
        const length =
          typeof script === 'function' ? 'the script function' : `a script of ${script.length} turn(s)`;
        throw new ProviderError(
          `scripted provider: no turn ${turnIndex + 1} in ${length}; the run asked for more turns than were written`,
        );
      }
      const content = structuredClone(turn.content);
      return {
        model: turn.model ?? 'scripted',
        content,
        stopReason:
          turn.stopReason ?? (content.some((block) => block.type === 'tool_call') ? 'tool_use' : 'end_turn'),
        usage: turn.usage ?? { inputTokens: estimateTokens(request), outputTokens: estimateTokens(content) },
      };
    },
  };
}
