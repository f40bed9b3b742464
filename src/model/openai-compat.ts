import type OpenAI from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions/completions';
import { z } from 'zod';
import { ModelBehaviorError } from '../errors.js';
import { unmark } from './datamark.js';
import { abortable, classifyFailure } from './failures.js';
import type {
  GenerateOptions,
  Message,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  TextBlock,
  ToolCallBlock,
} from './provider.js';
import {
  DATA_CONVENTION,
  renderData,
  renderToolResult,
  type ToolNameMap,
  toolNameMap,
  wireSchema,
} from './wire.js';

export interface OpenAICompatibleProviderOptions {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:8080/v1 (llama.cpp). */
  baseURL: string;
  model: string;
  /** Local servers usually need none; a placeholder is sent then, as the SDK requires one. */
  apiKey?: string | undefined;
  apiKeyEnv?: string | undefined;
  maxRetries?: number;
  maxOutputTokens?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  name?: string;
}

function wireMessages(system: string, messages: readonly Message[], names: ToolNameMap) {
  const wire: ChatCompletionMessageParam[] = [{ role: 'system', content: system }];
  for (const message of messages) {
    if (message.role === 'assistant') {
      const text = message.content
        .filter((block): block is TextBlock => block.type === 'text')
        .map((block) => block.text)
        .join('\n');
      const calls = message.content.filter((block): block is ToolCallBlock => block.type === 'tool_call');
      wire.push({
        role: 'assistant',
        content: text === '' ? null : text,
        ...(calls.length > 0
          ? {
              tool_calls: calls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: names.toWire(call.name), arguments: JSON.stringify(call.input) },
              })),
            }
          : {}),
      });
      continue;
    }
    const parts: string[] = [];
    for (const block of message.content) {
      if (block.type === 'tool_result')
        wire.push({ role: 'tool', tool_call_id: block.callId, content: renderToolResult(block) });
      else if (block.type === 'data') parts.push(renderData(block));
      else if (block.type === 'text') parts.push(block.text);
    }
    if (parts.length > 0) wire.push({ role: 'user', content: parts.join('\n\n') });
  }
  return wire;
}

/** The chat completions request for a Warden request: tools as functions, tool results as `tool` messages. */
export function toOpenAIRequest(
  request: ModelRequest,
  options: { model: string; maxOutputTokens: number },
): { params: ChatCompletionCreateParamsNonStreaming; names: ToolNameMap } {
  const names = toolNameMap(request.tools);
  const tools: ChatCompletionFunctionTool[] = request.tools.map((tool) => ({
    type: 'function',
    function: {
      name: names.toWire(tool.name),
      description: tool.description,
      parameters: wireSchema(tool.inputSchema),
    },
  }));
  const params: ChatCompletionCreateParamsNonStreaming = {
    model: options.model,
    // `max_tokens` rather than `max_completion_tokens`: what Ollama, vLLM and llama.cpp all read.
    max_tokens: request.maxOutputTokens ?? options.maxOutputTokens,
    messages: wireMessages(`${request.system}\n\n${DATA_CONVENTION}`, request.messages, names),
    ...(tools.length > 0 ? { tools } : {}),
  };
  return { params, names };
}

const responseSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().min(1),
                function: z.object({ name: z.string().min(1), arguments: z.string() }),
              }),
            )
            .nullish(),
        }),
      }),
    )
    .min(1, 'the reply has no choices'),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative().nullish() }).nullish(),
    })
    .nullish(),
});

function parseArguments(name: string, text: string): Record<string, unknown> {
  let input: unknown;
  try {
    input = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ModelBehaviorError(
      `the arguments of tool call ${name} are not valid JSON; call the tool again with a JSON object`,
    );
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ModelBehaviorError(`the arguments of tool call ${name} are not a JSON object`);
  return input as Record<string, unknown>;
}

/** A chat completion as Warden's response; a reply Warden cannot use is a `ModelBehaviorError`. */
export function fromOpenAIResponse(body: unknown, names: ToolNameMap, fallbackModel: string): ModelResponse {
  const parsed = responseSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelBehaviorError(
      `the chat completion is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const [choice] = parsed.data.choices;
  if (!choice) throw new ModelBehaviorError('the reply has no choices');
  const content: Array<TextBlock | ToolCallBlock> = [];
  if (choice.message.content) content.push({ type: 'text', text: choice.message.content });
  for (const call of choice.message.tool_calls ?? []) {
    const name = names.fromWire(call.function.name);
    content.push({
      type: 'tool_call',
      id: call.id,
      name,
      input: unmark(parseArguments(name, call.function.arguments)),
    });
  }
  const calls = content.length - (choice.message.content ? 1 : 0);
  if (content.length === 0)
    throw new ModelBehaviorError(
      `the model returned no text and no tool call (finish reason ${choice.finish_reason ?? 'none'})`,
    );
  if (choice.finish_reason === 'length' && calls > 0)
    throw new ModelBehaviorError(
      'the reply was cut off at the output limit while calling a tool; its arguments may be incomplete',
    );
  const usage = parsed.data.usage;
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    model: parsed.data.model ?? fallbackModel,
    content,
    stopReason: calls > 0 ? 'tool_use' : choice.finish_reason === 'length' ? 'max_tokens' : 'end_turn',
    usage: {
      inputTokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
      outputTokens: usage?.completion_tokens ?? 0,
      ...(cached > 0 ? { cacheReadTokens: cached } : {}),
    },
  };
}

/**
 * Any OpenAI-compatible chat completions endpoint (Ollama, vLLM, llama.cpp server, hosted
 * gateways) through the official `openai` SDK, with the same tool loop as the Claude provider.
 *
 * @example
 * const provider = createOpenAICompatibleProvider({ baseURL: 'http://127.0.0.1:11434/v1', model: 'qwen3:32b' });
 */
export function createOpenAICompatibleProvider(options: OpenAICompatibleProviderOptions): ModelProvider {
  // The SDK is loaded on first use: every CLI command imports this module, few call a model.
  let sdk: Promise<{ OpenAI: typeof OpenAI; client: OpenAI }> | null = null;
  const load = () => {
    sdk ??= import('openai').then(({ default: Sdk }) => ({
      OpenAI: Sdk,
      client: new Sdk({
        apiKey: options.apiKey ?? 'not-needed',
        baseURL: options.baseURL,
        maxRetries: options.maxRetries ?? 4,
        timeout: options.timeoutMs ?? 600_000,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    }));
    return sdk;
  };
  const maxOutputTokens = options.maxOutputTokens ?? 8192;
  const name = options.name ?? 'openai-compatible';
  return {
    name,
    async generate(request: ModelRequest, generateOptions?: GenerateOptions): Promise<ModelResponse> {
      generateOptions?.signal?.throwIfAborted();
      const { params, names } = toOpenAIRequest(request, { model: options.model, maxOutputTokens });
      const signal = generateOptions?.signal;
      const { OpenAI: Sdk, client } = await load();
      let body: unknown;
      try {
        body = await abortable(client.chat.completions.create(params, signal ? { signal } : {}), signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason ?? error;
        throw classifyFailure(error, {
          provider: name,
          model: options.model,
          keyEnv: options.apiKeyEnv,
          classes: { apiError: Sdk.APIError, abortError: Sdk.APIUserAbortError },
        });
      }
      return fromOpenAIResponse(body, names, options.model);
    },
  };
}
