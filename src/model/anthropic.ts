import type Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
  Tool,
  ToolUnion,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { z } from 'zod';
import { ModelBehaviorError, ModelUnavailableError } from '../errors.js';
import { unmark } from './datamark.js';
import { abortable, classifyFailure } from './failures.js';
import type {
  ContentBlock,
  GenerateOptions,
  Message,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ProviderBlock,
  TextBlock,
  ToolCallBlock,
} from './provider.js';
import {
  DATA_CONVENTION,
  renderData,
  renderToolResult,
  type ToolNameMap,
  toolNameMap,
  toWireName,
  wireSchema,
} from './wire.js';

export interface AnthropicProviderOptions {
  model: string;
  /** Absent: every call fails with a `ModelUnavailableError` naming `apiKeyEnv` (a run may fall back). */
  apiKey?: string | undefined;
  apiKeyEnv?: string;
  baseURL?: string | undefined;
  /** Retries of the SDK (exponential backoff with jitter, `retry-after` honoured) on 408/409/429/5xx/529 and connection errors. */
  maxRetries?: number;
  maxOutputTokens?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  name?: string;
  /** Deferred tool loading through Anthropic's tool search; absent: every tool in full on every turn. */
  toolSearch?: ToolSearchOptions | undefined;
}

/**
 * Deferred tool loading: the tools named here go in full on every turn; every other tool goes
 * with `defer_loading: true`, outside the prompt, until the model finds it with the tool-search
 * server tool, whose result the API expands to the tool's definition where it stands in the
 * conversation (so the cached prefix does not change).
 */
export interface ToolSearchOptions {
  /** `server.tool`, `server.*` or loop-local names (e.g. `submit_verdict`); names no request offers are ignored. */
  alwaysLoaded: readonly string[];
}

/** The regex variant of Anthropic's tool-search server tool: the model searches names and descriptions. */
export const TOOL_SEARCH_TOOL = {
  type: 'tool_search_tool_regex_20251119',
  name: 'tool_search_tool_regex',
} as const;

const cacheControl = { type: 'ephemeral' } as const;

function userBlocks(content: readonly ContentBlock[]): ContentBlockParam[] {
  const results: ContentBlockParam[] = [];
  const rest: ContentBlockParam[] = [];
  for (const block of content) {
    if (block.type === 'tool_result') {
      results.push({
        type: 'tool_result',
        tool_use_id: block.callId,
        content: renderToolResult(block),
        ...(block.isError ? { is_error: true } : {}),
      });
    } else if (block.type === 'data') rest.push({ type: 'text', text: renderData(block) });
    else if (block.type === 'text' && block.text.trim() !== '') rest.push({ type: 'text', text: block.text });
  }
  // The Messages API wants the tool results of a turn before any other content.
  return [...results, ...rest];
}

function assistantBlocks(content: readonly ContentBlock[], names: ToolNameMap): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  for (const block of content) {
    if (block.type === 'text' && block.text.trim() !== '') blocks.push({ type: 'text', text: block.text });
    else if (block.type === 'tool_call')
      blocks.push({ type: 'tool_use', id: block.id, name: names.toWire(block.name), input: block.input });
    // Server blocks go back as they came, in place (a copy: the cache mark must not land in the run's state).
    else if (block.type === 'provider' && block.wire === 'anthropic')
      blocks.push({ ...block.value } as unknown as ContentBlockParam);
  }
  return blocks;
}

function wireMessages(messages: readonly Message[], names: ToolNameMap): MessageParam[] {
  const wire: MessageParam[] = [];
  for (const message of messages) {
    const content =
      message.role === 'user' ? userBlocks(message.content) : assistantBlocks(message.content, names);
    if (content.length === 0) continue;
    const previous = wire.at(-1);
    // Consecutive turns of one role (e.g. a repair note after tool results) become one turn.
    if (previous?.role === message.role && Array.isArray(previous.content)) {
      previous.content.push(...content);
      if (message.role === 'user') previous.content = userBlocksOrdered(previous.content);
    } else wire.push({ role: message.role, content });
  }
  const lastBlock = wire.at(-1)?.content.at(-1);
  // A second cache breakpoint at the end of the conversation: each turn re-reads the last one's prefix.
  if (lastBlock && typeof lastBlock === 'object' && 'type' in lastBlock)
    Object.assign(lastBlock, { cache_control: cacheControl });
  return wire;
}

function userBlocksOrdered(blocks: ContentBlockParam[]): ContentBlockParam[] {
  return [
    ...blocks.filter((block) => block.type === 'tool_result'),
    ...blocks.filter((block) => block.type !== 'tool_result'),
  ];
}

/**
 * The tools a request defers under `toolSearch`: those not always loaded, except a tool the
 * conversation called before any search found it (after the offline fallback took a turn, say),
 * which the API would refuse as unloaded. None when that would defer every tool (the API wants
 * one loaded) or when tool search is off.
 */
export function deferredTools(
  request: Pick<ModelRequest, 'tools' | 'messages'>,
  toolSearch: ToolSearchOptions | undefined,
): Set<string> {
  if (!toolSearch) return new Set();
  const loaded = (name: string) =>
    toolSearch.alwaysLoaded.some((entry) =>
      entry.endsWith('.*') ? name.startsWith(entry.slice(0, -1)) : name === entry,
    );
  const deferred = new Set(request.tools.filter((tool) => !loaded(tool.name)).map((tool) => tool.name));
  const found = new Set<string>();
  for (const message of request.messages)
    for (const block of message.content) {
      if (block.type === 'provider') for (const name of foundTools(block)) found.add(name);
      else if (block.type === 'tool_call' && !found.has(toWireName(block.name))) deferred.delete(block.name);
    }
  return deferred.size > 0 && deferred.size < request.tools.length ? deferred : new Set();
}

/** The wire names of the tools a tool-search result block found. */
function foundTools(block: ProviderBlock): string[] {
  if (block.value.type !== 'tool_search_tool_result') return [];
  const references = (block.value.content as { tool_references?: unknown } | undefined)?.tool_references;
  return Array.isArray(references)
    ? references.map((reference) => String((reference as { tool_name?: unknown }).tool_name))
    : [];
}

/** What the system prompt says of the deferred tools: how to find them, and their names to search for. */
function toolSearchNote(wireNames: readonly string[]): string {
  return `More tools are available than are shown: their definitions load on demand. To use one, first call ${TOOL_SEARCH_TOOL.name} with a Python regular expression over tool names and descriptions (e.g. "^edr__process_tree$|^edr__host_summary$"); the tools it finds can then be called as usual. Tools available this way: ${wireNames.join(', ')}.`;
}

/**
 * The Messages API request for a Warden request: tools and system cached as the stable prefix.
 * With `toolSearch`, deferred tools carry `defer_loading` (outside the prefix) and the tool-search
 * server tool is offered; the system prompt names the deferred tools.
 */
export function toAnthropicRequest(
  request: ModelRequest,
  options: { model: string; maxOutputTokens: number; toolSearch?: ToolSearchOptions | undefined },
): { params: MessageCreateParamsNonStreaming; names: ToolNameMap } {
  const names = toolNameMap(request.tools);
  const deferred = deferredTools(request, options.toolSearch);
  const tools: ToolUnion[] = request.tools.map((tool) => ({
    name: names.toWire(tool.name),
    description: tool.description,
    input_schema: wireSchema(tool.inputSchema) as Tool['input_schema'],
    ...(deferred.has(tool.name) ? { defer_loading: true } : {}),
  }));
  let system = `${request.system}\n\n${DATA_CONVENTION}`;
  if (deferred.size > 0) {
    tools.push({ ...TOOL_SEARCH_TOOL });
    system += `\n\n${toolSearchNote([...deferred].map((name) => names.toWire(name)))}`;
  }
  const params: MessageCreateParamsNonStreaming = {
    model: options.model,
    max_tokens: request.maxOutputTokens ?? options.maxOutputTokens,
    system: [{ type: 'text', text: system, cache_control: cacheControl }],
    messages: wireMessages(request.messages, names),
    ...(tools.length > 0 ? { tools } : {}),
  };
  return { params, names };
}

const responseSchema = z.object({
  model: z.string(),
  content: z.array(z.looseObject({ type: z.string() })),
  stop_reason: z.string().nullable(),
  usage: z.looseObject({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cache_read_input_tokens: z.number().int().nonnegative().nullish(),
    cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
  }),
});

const toolUseSchema = z.object({ id: z.string().min(1), name: z.string().min(1), input: z.unknown() });

/** Blocks of a server tool (the API ran it): its call and its result, sent back unchanged on later turns. */
function isServerBlock(type: string): boolean {
  return type === 'server_tool_use' || (type.endsWith('_tool_result') && type !== 'tool_result');
}

/** A Messages API reply as Warden's response; a reply Warden cannot use is a `ModelBehaviorError`. */
export function fromAnthropicResponse(body: unknown, names: ToolNameMap): ModelResponse {
  const parsed = responseSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelBehaviorError(
      `the Messages API reply is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const message = parsed.data;
  const content: Array<TextBlock | ToolCallBlock | ProviderBlock> = [];
  for (const block of message.content) {
    if (block.type === 'text' && typeof block.text === 'string') {
      if (block.text !== '') content.push({ type: 'text', text: block.text });
    } else if (isServerBlock(block.type)) {
      content.push({ type: 'provider', wire: 'anthropic', value: block });
    } else if (block.type === 'tool_use') {
      const use = toolUseSchema.safeParse(block);
      if (!use.success) throw new ModelBehaviorError('a tool_use block lacks its id or name');
      const { input } = use.data;
      const name = names.fromWire(use.data.name);
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw new ModelBehaviorError(
          `the input of tool call ${name} is not a JSON object; call the tool again with an object of arguments`,
        );
      }
      content.push({
        type: 'tool_call',
        id: use.data.id,
        name,
        input: unmark(input as Record<string, unknown>),
      });
    }
  }
  const calls = content.filter((block) => block.type === 'tool_call').length;
  return {
    model: message.model,
    content: usable(content, message.stop_reason),
    stopReason: stopReason(message.stop_reason, calls),
    usage: {
      inputTokens: message.usage.input_tokens,
      outputTokens: message.usage.output_tokens,
      ...(message.usage.cache_read_input_tokens != null
        ? { cacheReadTokens: message.usage.cache_read_input_tokens }
        : {}),
      ...(message.usage.cache_creation_input_tokens != null
        ? { cacheWriteTokens: message.usage.cache_creation_input_tokens }
        : {}),
    },
  };
}

function usable(
  content: Array<TextBlock | ToolCallBlock | ProviderBlock>,
  reason: string | null,
): Array<TextBlock | ToolCallBlock | ProviderBlock> {
  if (content.length > 0) return content;
  if (reason === 'refusal') return [{ type: 'text', text: '(the model declined to continue)' }];
  throw new ModelBehaviorError(
    `the model returned no text and no tool call (stop reason ${reason ?? 'none'})`,
  );
}

function stopReason(reason: string | null, calls: number): ModelResponse['stopReason'] {
  switch (reason) {
    case 'tool_use':
      if (calls === 0) throw new ModelBehaviorError('the reply stopped for tool use but holds no tool call');
      return 'tool_use';
    case 'end_turn':
    case 'stop_sequence':
    case 'refusal':
      // Complete tool calls under another stop reason are still calls the model made.
      return calls > 0 ? 'tool_use' : 'end_turn';
    case 'pause_turn':
      throw new ModelBehaviorError(
        `the API paused the turn ${MAX_PAUSED_CONTINUATIONS + 1} times without finishing it`,
      );
    case 'max_tokens':
    case 'model_context_window_exceeded':
      if (calls > 0)
        throw new ModelBehaviorError(
          'the reply was cut off at the output limit while calling a tool; its arguments may be incomplete',
        );
      return 'max_tokens';
    default:
      throw new ModelBehaviorError(`the reply has an unsupported stop reason: ${reason ?? 'none'}`);
  }
}

/** How many times one turn the API paused (`pause_turn`) is continued before the reply counts as unusable. */
const MAX_PAUSED_CONTINUATIONS = 3;

/** The content of a reply the API paused (`pause_turn`), or null for any other reply. */
function pausedContent(reply: unknown): ContentBlockParam[] | null {
  if (!reply || typeof reply !== 'object') return null;
  const { stop_reason, content } = reply as { stop_reason?: unknown; content?: unknown };
  return stop_reason === 'pause_turn' && Array.isArray(content) ? (content as ContentBlockParam[]) : null;
}

/** The pieces of one continued turn as one reply: their content in order, the last stop reason, usage summed. */
function joinReplies(replies: readonly unknown[]): unknown {
  if (replies.length === 1) return replies[0];
  const last = replies.at(-1) as Record<string, unknown>;
  const usage: Record<string, number> = {};
  for (const reply of replies) {
    const counts = (reply as { usage?: Record<string, unknown> }).usage ?? {};
    for (const [key, value] of Object.entries(counts))
      if (typeof value === 'number') usage[key] = (usage[key] ?? 0) + value;
  }
  return {
    ...last,
    content: replies.flatMap((reply) => (reply as { content?: unknown[] }).content ?? []),
    usage: { ...(last.usage as object), ...usage },
  };
}

/**
 * The Claude Messages API through the official SDK. The key is read once, at construction, by
 * the caller; a missing key surfaces on the first call, naming the variable to export.
 *
 * @example
 * const provider = createAnthropicProvider({ model: 'claude-opus-4-8', apiKey: process.env.ANTHROPIC_API_KEY });
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  const keyEnv = options.apiKeyEnv ?? 'ANTHROPIC_API_KEY';
  const maxOutputTokens = options.maxOutputTokens ?? 8192;
  const { apiKey } = options;
  // The SDK is loaded on first use: every CLI command imports this module, few call a model.
  let sdk: Promise<{ Anthropic: typeof Anthropic; client: Anthropic }> | null = null;
  const load = () => {
    sdk ??= import('@anthropic-ai/sdk').then(({ default: Sdk }) => ({
      Anthropic: Sdk,
      client: new Sdk({
        apiKey,
        ...(options.baseURL ? { baseURL: options.baseURL } : {}),
        maxRetries: options.maxRetries ?? 4,
        timeout: options.timeoutMs ?? 600_000,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    }));
    return sdk;
  };
  const name = options.name ?? 'anthropic';
  return {
    name,
    async generate(request: ModelRequest, generateOptions?: GenerateOptions): Promise<ModelResponse> {
      generateOptions?.signal?.throwIfAborted();
      if (!apiKey)
        throw new ModelUnavailableError(
          `${keyEnv} is not set; export it to use ${options.model}, or set model.provider: offline`,
        );
      const { params, names } = toAnthropicRequest(request, {
        model: options.model,
        maxOutputTokens,
        toolSearch: options.toolSearch,
      });
      const signal = generateOptions?.signal;
      const { Anthropic: Sdk, client } = await load();
      const send = async (body: MessageCreateParamsNonStreaming): Promise<unknown> => {
        try {
          return await abortable(client.messages.create(body, signal ? { signal } : {}), signal);
        } catch (error) {
          if (signal?.aborted) throw signal.reason ?? error;
          throw classifyFailure(error, {
            provider: name,
            model: options.model,
            keyEnv,
            classes: { apiError: Sdk.APIError, abortError: Sdk.APIUserAbortError },
          });
        }
      };
      // A turn the API paused (a long server-tool turn) continues by sending its content back as
      // the last assistant turn; the pieces make one reply.
      const replies = [await send(params)];
      while (pausedContent(replies.at(-1)) && replies.length <= MAX_PAUSED_CONTINUATIONS) {
        const content = replies.flatMap((reply) => pausedContent(reply) ?? []);
        replies.push(
          await send({ ...params, messages: [...params.messages, { role: 'assistant', content }] }),
        );
      }
      return fromAnthropicResponse(joinReplies(replies), names);
    },
  };
}
