import type { WardenConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createAnthropicProvider } from './anthropic.js';
import { createOfflineAnalyst } from './offline/index.js';
import { createOpenAICompatibleProvider } from './openai-compat.js';
import type { ModelProvider } from './provider.js';

export type { AnthropicProviderOptions, ToolSearchOptions } from './anthropic.js';
export {
  createAnthropicProvider,
  deferredTools,
  fromAnthropicResponse,
  TOOL_SEARCH_TOOL,
  toAnthropicRequest,
} from './anthropic.js';
export { createCompromisedProvider } from './compromised.js';
export { DATAMARK, DATAMARK_NOTICE, datamark, markUntrusted, unmark } from './datamark.js';
export { expandCommandLine, extractIndicators } from './offline/indicators.js';
export type { OpenAICompatibleProviderOptions } from './openai-compat.js';
export { createOpenAICompatibleProvider, fromOpenAIResponse, toOpenAIRequest } from './openai-compat.js';
export type {
  ContentBlock,
  DataBlock,
  GenerateOptions,
  Message,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ProviderBlock,
  TextBlock,
  TokenUsage,
  ToolCallBlock,
  ToolResultBlock,
  ToolSpec,
  Trust,
} from './provider.js';
export { SUBMIT_VERDICT_TOOL } from './provider.js';
export { createScriptedProvider } from './scripted.js';
export { renderData, toWireName } from './wire.js';
export { createOfflineAnalyst };

export type ModelConfig = WardenConfig['model'];
export type ProviderName = ModelConfig['provider'];
export const providerNames: readonly ProviderName[] = ['offline', 'anthropic', 'openai-compatible'];
export type SubtaskName = keyof ModelConfig['subtasks'];
type Env = Record<string, string | undefined>;

/** What the configured model setup needs the operator to know at start-up (e.g. a missing key). */
export function modelNotes(model: ModelConfig, env: Env = process.env): string[] {
  // With fallback none, a missing key is a start-up error instead (createProvider).
  if (model.fallback !== 'offline') return [];
  if (model.provider === 'anthropic' && !env[model.anthropic.apiKeyEnv]) {
    return [
      `${model.anthropic.apiKeyEnv} is not set: runs use the offline analyst (model.fallback: offline) and say so in their verdict; export it to use ${model.orchestrator.model}`,
    ];
  }
  const openaiKey = model.openai.apiKeyEnv;
  if (model.provider === 'openai-compatible' && openaiKey && !env[openaiKey])
    return [
      `${openaiKey} is not set: requests go without a key; export it if ${model.openai.baseURL} needs one`,
    ];
  return [];
}

function apiKey(name: string | undefined, env: Env): string | undefined {
  return name ? env[name] : undefined;
}

function modelFor(model: ModelConfig, role: SubtaskName | 'orchestrator'): string {
  if (model.provider === 'openai-compatible') {
    const chosen =
      role === 'orchestrator' ? model.openai.model : (model.subtasks[role].model ?? model.openai.model);
    if (!chosen)
      throw new ConfigError(
        'model.openai.model: required with provider openai-compatible; name the model your server serves (e.g. qwen3:32b)',
      );
    return chosen;
  }
  return role === 'orchestrator'
    ? model.orchestrator.model
    : (model.subtasks[role].model ?? model.anthropic.subtaskModel);
}

function remoteProvider(
  model: ModelConfig,
  env: Env,
  options: { model: string; maxOutputTokens: number; name?: string },
): ModelProvider {
  if (model.provider === 'anthropic') {
    const { apiKeyEnv, baseURL, maxRetries, timeoutSeconds, toolSearch } = model.anthropic;
    const key = env[apiKeyEnv];
    if (!key && model.fallback === 'none')
      throw new ConfigError(
        `${apiKeyEnv} is not set; export it (model.provider: anthropic), or set model.fallback: offline`,
      );
    return createAnthropicProvider({
      ...options,
      apiKey: key,
      apiKeyEnv,
      baseURL,
      maxRetries,
      timeoutMs: timeoutSeconds * 1000,
      ...(toolSearch.enabled ? { toolSearch: { alwaysLoaded: toolSearch.alwaysLoaded } } : {}),
    });
  }
  const { apiKeyEnv, baseURL, maxRetries, timeoutSeconds } = model.openai;
  if (apiKeyEnv && !env[apiKeyEnv] && model.fallback === 'none')
    throw new ConfigError(`${apiKeyEnv} is not set; export it, or remove model.openai.apiKeyEnv`);
  return createOpenAICompatibleProvider({
    ...options,
    baseURL,
    apiKey: apiKey(apiKeyEnv, env),
    apiKeyEnv,
    maxRetries,
    timeoutMs: timeoutSeconds * 1000,
  });
}

/** The orchestrator named in config. `offline` needs no key and no network. */
export function createProvider(model: ModelConfig, env: Env = process.env): ModelProvider {
  if (model.provider === 'offline') return createOfflineAnalyst();
  return remoteProvider(model, env, {
    model: modelFor(model, 'orchestrator'),
    maxOutputTokens: model.orchestrator.maxOutputTokens,
  });
}

/** The provider a run continues with when the configured one is unreachable, or null (`fallback: none`). */
export function createFallbackProvider(model: ModelConfig): ModelProvider | null {
  return model.provider !== 'offline' && model.fallback === 'offline' ? createOfflineAnalyst() : null;
}

/** The cheaper models for sub-tasks, or null with the offline analyst (sub-tasks then run locally). */
export function createSubtaskProviders(
  model: ModelConfig,
  env: Env = process.env,
): Record<SubtaskName, ModelProvider> | null {
  if (model.provider === 'offline') return null;
  const make = (task: SubtaskName) =>
    remoteProvider(model, env, {
      model: modelFor(model, task),
      maxOutputTokens: model.subtasks[task].maxOutputTokens,
      name: `${model.provider}:${task}`,
    });
  return { summarise: make('summarise'), extract_indicators: make('extract_indicators') };
}
