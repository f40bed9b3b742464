import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayRun, startRun } from '../../src/agent/index.js';
import { DEFAULT_ALWAYS_LOADED } from '../../src/config/index.js';
import { openKillSwitchBoard } from '../../src/control/index.js';
import { createAnthropicProvider, createOfflineAnalyst } from '../../src/model/index.js';
import { auditTypes, type LoopHarness, loopConfig, mshtaAlert, openLoopHarness } from './loop-harness.js';
import {
  closedPortURL,
  fixture,
  type Replier,
  referencedTools,
  replayByModel,
  searchDeferredTools,
  startWireServer,
  withToolSearchRules,
} from './wire-server.js';

let harness: LoopHarness;
beforeAll(async () => {
  harness = await openLoopHarness();
}, 240_000);
afterAll(async () => {
  await harness?.close();
});

const claude = (baseURL: string, model = 'claude-opus-4-8', maxRetries = 2) =>
  createAnthropicProvider({ model, apiKey: 'sk-test', baseURL, maxRetries });

const message = (content: unknown[], stop_reason = 'tool_use') => ({
  id: 'msg_x',
  type: 'message',
  role: 'assistant',
  model: 'claude-opus-4-8',
  content,
  stop_reason,
  stop_sequence: null,
  usage: { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
});
const toolUse = (id: string, name: string, input: unknown) => ({ type: 'tool_use', id, name, input });
const verdict = (overrides: Record<string, unknown> = {}) => ({
  verdict: 'suspicious',
  confidence: 0.7,
  summary: 'needs a closer look',
  techniques: ['T1059.001'],
  evidence: [{ claim: 'encoded PowerShell', refs: ['{{ref:alert}}'] }],
  recommendedActions: [],
  ...overrides,
});

function inOrder(bodies: unknown[]): Replier {
  return (_request, index) => ({
    body: bodies[index] ?? message([{ type: 'text', text: 'done' }], 'end_turn'),
  });
}

describe('the loop on the Anthropic provider (real SDK, loopback Messages API)', () => {
  it('triages the malicious sample: tool calls, a Haiku sub-task, submit_verdict, isolation held for approval', async () => {
    const server = await startWireServer(
      replayByModel(fixture('anthropic-malicious-run.json') as Record<string, unknown[]>),
    );
    try {
      const haiku = claude(server.baseURL, 'claude-haiku-4-5');
      const outcome = await startRun(
        harness.deps(claude(server.baseURL), {
          subtaskProviders: { summarise: haiku, extract_indicators: haiku },
        }),
        mshtaAlert,
      );
      expect(outcome.error).toBeNull();
      expect(outcome.verdict).toMatchObject({ verdict: 'malicious', confidence: 0.92 });
      expect(outcome.status).toBe('awaiting_approval');
      expect(outcome.pendingApproval).toMatchObject({ tool: 'edr.isolate_host', args: { host: 'FIN-WS01' } });

      const opus = server.requests.filter((request) => request.body.model === 'claude-opus-4-8');
      const sub = server.requests.filter((request) => request.body.model === 'claude-haiku-4-5');
      expect(opus).toHaveLength(3);
      expect(sub).toHaveLength(1);
      // The orchestrator sees every tool, mapped, with the sub-task tools and submit_verdict.
      const names = ((opus[0]?.body.tools ?? []) as Array<{ name: string }>).map((tool) => tool.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'edr__process_tree',
          'intel__lookup_indicator',
          'submit_verdict',
          'extract_indicators',
          'summarise_logs',
        ]),
      );
      // The second turn carries both tool results back, delimited, with their refs.
      const turn2 = opus[1]?.body.messages as Array<{
        role: string;
        content: Array<{ type: string; tool_use_id?: string; content?: string }>;
      }>;
      const results = turn2.at(-1)?.content ?? [];
      expect(results.map((block) => block.tool_use_id)).toEqual(['toolu_01A', 'toolu_01B']);
      expect(results[0]?.content).toMatch(
        /^<tool-result tool="edr.process_tree" trust="untrusted" ref="run-/,
      );
      // The sub-agent got the untrusted alert as data, no tools, and no Warden system prompt.
      expect(sub[0]?.body.tools).toBeUndefined();
      expect(sub[0]?.text).toContain('<data label="text" trust="untrusted"');
      expect(sub[0]?.text).not.toContain('You are Warden');

      const events = await harness.store.audit.list(outcome.runId);
      const subtask = events.find((event) => event.type === 'subtask-result')?.data as Record<
        string,
        unknown
      >;
      expect(subtask).toMatchObject({
        task: 'extract_indicators',
        source: 'model',
        model: 'claude-haiku-4-5-20251001',
        dropped: 1,
      });
      const value = subtask.value as Record<string, string[]>;
      // Decoded from the -enc payload, so it is in the text; the email is not, so it was dropped.
      expect(value.domains).toEqual(['cdn.remitvault-docs.com']);
      expect(value.users).toEqual(['HARBOURLINE\\m.okafor']);
      expect(value.emails).toEqual([]);
      const usages = events
        .filter((event) => event.type === 'model-response')
        .map((event) => event.data as { usage: unknown; model: string });
      expect(usages[1]).toMatchObject({
        model: 'claude-opus-4-8',
        usage: { inputTokens: 1504, cacheReadTokens: 3120, cacheWriteTokens: 2210 },
      });
    } finally {
      await server.close();
    }
  }, 240_000);

  it('tool search: the model finds a deferred tool, the server blocks go back unchanged, the gateway runs the call', async () => {
    let searchTurn: Record<string, unknown>[] = [];
    const server = await startWireServer(
      withToolSearchRules((request, index) => {
        if (index === 0) {
          const query = '^edr__host_summary$';
          searchTurn = [
            { type: 'text', text: 'I need the host facts.' },
            {
              type: 'server_tool_use',
              id: 'srvtoolu_01',
              name: 'tool_search_tool_regex',
              input: { query },
              caller: { type: 'direct' },
            },
            {
              type: 'tool_search_tool_result',
              tool_use_id: 'srvtoolu_01',
              content: {
                type: 'tool_search_tool_search_result',
                tool_references: searchDeferredTools(request.body, query).map((tool_name) => ({
                  type: 'tool_reference',
                  tool_name,
                })),
              },
            },
            toolUse('toolu_h1', 'edr__host_summary', { host: 'FIN-WS01' }),
          ];
          return { body: message(searchTurn) };
        }
        return {
          body: message([
            toolUse(
              'toolu_v1',
              'submit_verdict',
              verdict({ evidence: [{ claim: 'host facts', refs: ['{{ref:last}}'] }] }),
            ),
          ]),
        };
      }),
    );
    try {
      const provider = createAnthropicProvider({
        model: 'claude-opus-4-8',
        apiKey: 'sk-test',
        baseURL: server.baseURL,
        toolSearch: { alwaysLoaded: DEFAULT_ALWAYS_LOADED },
      });
      const outcome = await startRun(harness.deps(provider), mshtaAlert);
      expect(outcome.error).toBeNull();
      expect(outcome.status).toBe('completed');
      expect(server.requests).toHaveLength(2);

      // Request shape: the search tool offered, host_summary deferred, the always-loaded reads not.
      const [first, second] = server.requests;
      const tools = first?.body.tools as Array<{ name: string; type?: string; defer_loading?: boolean }>;
      const flag = (name: string) => tools.find((tool) => tool.name === name)?.defer_loading ?? false;
      expect(tools.find((tool) => tool.type === 'tool_search_tool_regex_20251119')).toBeTruthy();
      expect([flag('edr__host_summary'), flag('siem__search_events'), flag('submit_verdict')]).toEqual([
        true,
        false,
        false,
      ]);
      expect(first?.headers['anthropic-beta']).toBeUndefined();
      // The same tool list on the next turn (the cached prefix holds), and the assistant turn verbatim.
      expect(second?.body.tools).toEqual(first?.body.tools);
      expect(second?.body.system).toEqual(first?.body.system);
      const messages = second?.body.messages as Array<{
        role: string;
        content: Array<Record<string, unknown>>;
      }>;
      const assistant = messages.find((entry) => entry.role === 'assistant');
      expect(assistant?.content).toEqual(searchTurn);
      expect(referencedTools(searchTurn[2] ?? {})).toEqual(['edr__host_summary']);

      // The found tool went through the gateway like any other call.
      const events = await harness.store.audit.list(outcome.runId);
      const results = events.filter(
        (event) =>
          event.type === 'tool-call-result' && (event.data as { tool?: string }).tool === 'edr.host_summary',
      );
      expect(results).toHaveLength(1);
      expect(messages.at(-1)?.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_h1' });

      // The recorded server blocks replay: the run is driven again to the same decisions.
      const replayed = await replayRun(outcome.runId, events, { config: loopConfig, skills: harness.skills });
      expect(replayed.divergence).toBeNull();
      expect(replayed).toMatchObject({ recordedStatus: 'completed', replayedStatus: 'completed' });
    } finally {
      await server.close();
    }
  }, 120_000);

  it('asks again after unusable replies (bad tool input, unknown tool) and continues to a verdict', async () => {
    const server = await startWireServer(
      inOrder([
        message([toolUse('toolu_1', 'edr__process_tree', '{"host": "FIN-WS01"')]),
        message([toolUse('toolu_2', 'edr__wipe_disk', { host: 'FIN-WS01' })]),
        message([
          toolUse(
            'toolu_3',
            'submit_verdict',
            verdict({ evidence: [{ claim: 'no such tool', refs: ['{{ref:last}}'] }] }),
          ),
        ]),
      ]),
    );
    try {
      const outcome = await startRun(harness.deps(claude(server.baseURL)), mshtaAlert);
      expect(outcome.status).toBe('completed');
      expect(outcome.verdict?.verdict).toBe('suspicious');
      // The repair note reached the model in the next request.
      expect(server.requests[1]?.text).toContain(
        'Your last reply could not be used: the input of tool call edr.process_tree is not a JSON object',
      );
      // The unknown tool was answered by the gateway, as an error the model reads.
      expect(server.requests[2]?.text).toMatch(
        /<tool-result tool="edr__wipe_disk" trust="trusted" ref="[^"]+" error="true">[\s\S]*unknown tool edr__wipe_disk: no connected server offers it/,
      );
      const events = await harness.store.audit.list(outcome.runId);
      const failed = events.filter(
        (event) =>
          event.type === 'model-response' && (event.data as { code?: string }).code === 'model_behavior',
      );
      expect(failed).toHaveLength(1);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('re-asks a verdict missing fields once, then escalates to a human', async () => {
    const incomplete = { verdict: 'malicious', confidence: 0.9 };
    const server = await startWireServer(
      inOrder([
        message([toolUse('toolu_1', 'submit_verdict', incomplete)]),
        message([toolUse('toolu_2', 'submit_verdict', incomplete)]),
      ]),
    );
    try {
      const outcome = await startRun(harness.deps(claude(server.baseURL)), mshtaAlert);
      expect(outcome.status).toBe('escalated');
      expect(outcome.verdict).toBeNull();
      expect(outcome.error).toMatch(/verdict was invalid 2 times .*summary/);
      expect(server.requests).toHaveLength(2);
      expect(server.requests[1]?.text).toMatch(/invalid_verdict[\s\S]*does not match the schema/);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('escalates after three unusable replies in a row', async () => {
    const server = await startWireServer(() => ({ body: message([], 'end_turn') }));
    try {
      const outcome = await startRun(harness.deps(claude(server.baseURL)), mshtaAlert);
      expect(outcome.status).toBe('escalated');
      expect(outcome.error).toMatch(/unusable 3 times \(the model returned no text and no tool call/);
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('a kill switch aborts the in-flight model request: the run ends killed and nothing is retried', async () => {
    const server = await startWireServer(() => ({ hang: true }));
    const board = openKillSwitchBoard(harness.home);
    try {
      const run = startRun(
        harness.deps(claude(server.baseURL, 'claude-opus-4-8', 4), { killSwitches: true }),
        mshtaAlert,
      );
      const deadline = Date.now() + 60_000;
      while (server.requests.length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const engaged = await board.engage({ type: 'all' }, 'alice', 'model misbehaving', new Date());
      try {
        const outcome = await run;
        expect(outcome.status).toBe('killed');
        expect(outcome.error).toContain('model misbehaving');
        expect(server.requests).toHaveLength(1);
        expect(await auditTypes(harness.store, outcome.runId)).toEqual(
          expect.arrayContaining(['model-request', 'model-response', 'kill-switch-engage', 'run-end']),
        );
      } finally {
        await board.release(engaged.id);
      }
    } finally {
      await server.close();
    }
  }, 120_000);

  it('falls back to the offline analyst when the API goes down mid-run, and the verdict says so', async () => {
    // Claude answers the first turn; then the server drops every connection.
    const first = message([
      toolUse('toolu_1', 'edr__process_tree', { processGuid: '{7c2d41a9-6c79-6afd-7803-000000000b00}' }),
    ]);
    const server = await startWireServer((_request, index) =>
      index === 0 ? { body: first } : { destroy: true },
    );
    try {
      const outcome = await startRun(
        harness.deps(claude(server.baseURL, 'claude-opus-4-8', 1), {
          fallbackProvider: createOfflineAnalyst(),
        }),
        mshtaAlert,
      );
      // The first turn plus one retry of the second, then no more requests: the rest is offline.
      expect(server.requests).toHaveLength(3);
      expect(outcome.verdict?.verdict).toBe('malicious');
      expect(outcome.verdict?.summary).toMatch(
        /^\[degraded\] model API unreachable \(anthropic API unreachable: Connection error/,
      );
      expect(outcome.verdict?.summary).toContain('offline analyst verdict');
      const events = await harness.store.audit.list(outcome.runId);
      expect(events.find((event) => event.type === 'model-fallback')?.data).toMatchObject({
        from: 'anthropic',
        to: 'offline',
      });
      const verdictEvent = events.find((event) => event.type === 'run-verdict')?.data as {
        modelFallback?: unknown;
      };
      expect(verdictEvent.modelFallback).toMatchObject({ from: 'anthropic' });
      const requests = events
        .filter((event) => event.type === 'model-request')
        .map((event) => (event.data as { provider: string }).provider);
      expect(requests.slice(0, 2)).toEqual(['anthropic', 'anthropic']);
      expect(new Set(requests.slice(2))).toEqual(new Set(['offline']));
      // The offline analyst continued the same transcript: Claude's process-tree call is not repeated.
      const trees = events.filter(
        (event) =>
          event.type === 'tool-call-request' && (event.data as { tool: string }).tool === 'edr.process_tree',
      );
      expect(trees.map((event) => (event.data as { callId: string }).callId)).toContain('toolu_1');
    } finally {
      await server.close();
    }
  }, 240_000);

  it('without a fallback, an unreachable API fails the run with the cause, audited', async () => {
    const outcome = await startRun(
      harness.deps(claude(await closedPortURL(), 'claude-opus-4-8', 0)),
      mshtaAlert,
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/anthropic API unreachable/);
    expect((await auditTypes(harness.store, outcome.runId)).slice(-2)).toEqual(['model-response', 'run-end']);
  }, 60_000);
});
