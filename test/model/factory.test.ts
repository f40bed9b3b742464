import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import {
  createFallbackProvider,
  createProvider,
  createSubtaskProviders,
  modelNotes,
} from '../../src/model/index.js';
import { type Replier, startWireServer } from './wire-server.js';

const config = (yaml: string) => loadConfig(yaml, {}).model;

/** A Messages API server answering every request with one text block, as the model asked for. */
const textReply =
  (text: string): Replier =>
  (request) => ({
    body: {
      id: 'msg',
      type: 'message',
      role: 'assistant',
      model: request.body.model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 1, output_tokens: 1 },
    },
  });

describe('model config and provider factory', () => {
  it('defaults to the offline analyst with no key, no fallback and local sub-tasks', () => {
    const model = config('');
    expect(model).toMatchObject({
      provider: 'offline',
      fallback: 'offline',
      orchestrator: { model: 'claude-opus-4-8' },
      anthropic: { apiKeyEnv: 'ANTHROPIC_API_KEY', subtaskModel: 'claude-haiku-4-5' },
    });
    expect(createProvider(model, {}).name).toBe('offline');
    expect(createFallbackProvider(model)).toBeNull();
    expect(createSubtaskProviders(model, {})).toBeNull();
  });

  it('names the key variable when it is missing and there is no fallback', () => {
    const model = config(
      'model: { provider: anthropic, fallback: none, anthropic: { apiKeyEnv: TEAM_CLAUDE_KEY } }',
    );
    expect(() => createProvider(model, {})).toThrow(ConfigError);
    expect(() => createProvider(model, {})).toThrow(/TEAM_CLAUDE_KEY is not set; export it/);
  });

  it('with fallback offline, a missing key is a start-up note and every call fails over', async () => {
    const model = config('model: { provider: anthropic }');
    expect(modelNotes(model, {})).toEqual([expect.stringContaining('ANTHROPIC_API_KEY is not set')]);
    expect(modelNotes(model, { ANTHROPIC_API_KEY: 'k' })).toEqual([]);
    const provider = createProvider(model, {});
    await expect(provider.generate({ system: 's', messages: [], tools: [] })).rejects.toMatchObject({
      code: 'model_unavailable',
    });
    expect(createFallbackProvider(model)?.name).toBe('offline');
  });

  it('picks the sub-task models from config: the Haiku-class default, or one per sub-task', async () => {
    const server = await startWireServer(textReply('{}'));
    try {
      const model = config(`
model:
  provider: anthropic
  anthropic: { baseURL: "${server.baseURL}" }
  subtasks: { summarise: { model: claude-sonnet-4-6 } }
`);
      const providers = createSubtaskProviders(model, { ANTHROPIC_API_KEY: 'k' });
      const request = { system: 's', messages: [], tools: [] };
      expect((await providers?.summarise.generate(request))?.model).toBe('claude-sonnet-4-6');
      expect((await providers?.extract_indicators.generate(request))?.model).toBe('claude-haiku-4-5');
    } finally {
      await server.close();
    }
  });

  it('defers tools through tool search by default, with the configured always-loaded tools, or not at all', async () => {
    const server = await startWireServer(textReply('ok'));
    const tool = (name: string) => ({ name, description: name, inputSchema: { type: 'object' } });
    const request = {
      system: 's',
      messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }],
      tools: ['submit_verdict', 'edr.process_tree', 'edr.host_summary', 'ticket.get_ticket'].map(tool),
    };
    const deferred = async (yaml: string) => {
      await createProvider(config(yaml), { ANTHROPIC_API_KEY: 'k' }).generate(request);
      const tools = server.requests.at(-1)?.body.tools as Array<{ name: string; defer_loading?: boolean }>;
      return tools.filter((entry) => entry.defer_loading).map((entry) => entry.name);
    };
    const base = `model: { provider: anthropic, anthropic: { baseURL: "${server.baseURL}"`;
    try {
      expect(await deferred(`${base} } }`)).toEqual(['edr__host_summary', 'ticket__get_ticket']);
      expect(await deferred(`${base}, toolSearch: { alwaysLoaded: [submit_verdict, edr.*] } } }`)).toEqual([
        'ticket__get_ticket',
      ]);
      expect(await deferred(`${base}, toolSearch: { enabled: false } } }`)).toEqual([]);
    } finally {
      await server.close();
    }
    expect(() => config('model: { anthropic: { toolSearch: { alwaysLoaded: [] } } }')).toThrow(
      /model.anthropic.toolSearch.alwaysLoaded.*at least one tool/,
    );
    expect(() => config('model: { anthropic: { toolSearch: { alwaysLoaded: ["edr tools"] } } }')).toThrow(
      /alwaysLoaded.*server.tool, server.\* or a loop tool/,
    );
  });

  it('requires a model id for an OpenAI-compatible server, and reads its key only from the named variable', () => {
    expect(() => createProvider(config('model: { provider: openai-compatible }'), {})).toThrow(
      /model.openai.model: required with provider openai-compatible/,
    );
    const model = config(
      'model: { provider: openai-compatible, openai: { model: qwen3:32b, apiKeyEnv: VLLM_KEY } }',
    );
    expect(createProvider(model, { VLLM_KEY: 'x' }).name).toBe('openai-compatible');
    expect(createSubtaskProviders(model, { VLLM_KEY: 'x' })?.summarise.name).toBe(
      'openai-compatible:summarise',
    );
  });

  it('rejects an unknown provider and a key written into the file', () => {
    expect(() => config('model: { provider: gpt }')).toThrow(/model.provider/);
    expect(() => config('model: { anthropic: { apiKey: sk-ant-123 } }')).toThrow(/unknown key 'apiKey'/);
  });
});
