import type { WardenConfig } from '../config/index.js';
import { createOfflineAnalyst } from './offline/index.js';
import type { ModelProvider } from './provider.js';

export { createCompromisedProvider } from './compromised.js';
export { DATAMARK, DATAMARK_NOTICE, datamark, renderForModel } from './datamark.js';
export type {
  ContentBlock,
  DataBlock,
  GenerateOptions,
  Message,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  TextBlock,
  TokenUsage,
  ToolCallBlock,
  ToolResultBlock,
  ToolSpec,
  Trust,
} from './provider.js';
export { SUBMIT_VERDICT_TOOL } from './provider.js';
export { createScriptedProvider } from './scripted.js';
export { createOfflineAnalyst };

/** The provider named in config. `offline` needs no key and no network. */
export function createProvider(model: WardenConfig['model']): ModelProvider {
  switch (model.provider) {
    case 'offline':
      return createOfflineAnalyst();
  }
}
