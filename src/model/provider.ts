/**
 * The model layer's one seam. A provider turns a conversation into the next assistant turn.
 * Content is structured: untrusted data travels in `data` and `tool_result` blocks that each
 * provider renders as delimited data for its wire format, never as instructions.
 */

export type Trust = 'trusted' | 'untrusted';

export interface TextBlock {
  type: 'text';
  text: string;
}

/** A piece of data given to the model, e.g. the alert. `ref` is the audit event id it came from. */
export interface DataBlock {
  type: 'data';
  label: string;
  trust: Trust;
  ref: string;
  value: unknown;
}

export interface ToolCallBlock {
  type: 'tool_call';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** The result of a tool call; `ref` is the audit event id of the result, to be cited as evidence. */
export interface ToolResultBlock {
  type: 'tool_result';
  callId: string;
  name: string;
  ref: string;
  isError: boolean;
  trust: Trust;
  /** Field-level provenance: paths (`*` = any array item) of trusted fields; every other field is untrusted. */
  labels?: { trusted: string[] };
  value: unknown;
}

/**
 * A block of a provider's own wire format that its API put in the model's reply and needs back,
 * unchanged and in place, on every later turn: e.g. Anthropic's tool-search blocks
 * (`server_tool_use`, `tool_search_tool_result`). The provider whose `wire` it is sends `value`
 * as it came; every other provider leaves it out. It is not data from a tool: the server ran it.
 */
export interface ProviderBlock {
  type: 'provider';
  wire: 'anthropic';
  value: Record<string, unknown>;
}

export type ContentBlock = TextBlock | DataBlock | ToolCallBlock | ToolResultBlock | ProviderBlock;

export interface Message {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ToolSpec {
  /** `server.tool`, or a loop-local tool such as `submit_verdict`. */
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  system: string;
  messages: Message[];
  tools: ToolSpec[];
  maxOutputTokens?: number;
}

export interface TokenUsage {
  /** Input tokens billed at the full rate (cache reads and writes are counted apart). */
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache. */
  cacheReadTokens?: number;
  /** Input tokens written to the provider's prompt cache. */
  cacheWriteTokens?: number;
}

export interface ModelResponse {
  model: string;
  content: Array<TextBlock | ToolCallBlock | ProviderBlock>;
  stopReason: 'tool_use' | 'end_turn' | 'max_tokens';
  usage: TokenUsage;
}

export interface GenerateOptions {
  signal?: AbortSignal;
}

export interface ModelProvider {
  readonly name: string;
  generate(request: ModelRequest, options?: GenerateOptions): Promise<ModelResponse>;
}

/** Name of the loop-local tool through which every provider submits its verdict. */
export const SUBMIT_VERDICT_TOOL = 'submit_verdict';
