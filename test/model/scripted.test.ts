import { describe, expect, test } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import type { ModelRequest } from '../../src/model/provider.js';
import { createScriptedProvider, type ScriptedTurn } from '../../src/model/scripted.js';

const verdict = {
  verdict: 'benign',
  confidence: 0.8,
  summary: 'Admin work.',
  techniques: [],
  evidence: [{ claim: 'Explorer parent', refs: ['ref-alert'] }],
  recommendedActions: [],
};

const script: ScriptedTurn[] = [
  {
    content: [
      { type: 'text', text: 'Looking at the host.' },
      { type: 'tool_call', id: 'call_1', name: 'edr.host_summary', input: { host: 'WS1' } },
    ],
  },
  { content: [{ type: 'tool_call', id: 'call_2', name: 'submit_verdict', input: verdict }] },
];

function request(assistantTurns: number): ModelRequest {
  const messages: ModelRequest['messages'] = [
    { role: 'user', content: [{ type: 'text', text: 'Investigate.' }] },
  ];
  for (let turn = 0; turn < assistantTurns; turn += 1) {
    messages.push({ role: 'assistant', content: script[turn]?.content ?? [] });
    messages.push({ role: 'user', content: [{ type: 'text', text: `results of turn ${turn + 1}` }] });
  }
  return { system: 'sys', messages, tools: [] };
}

describe('scripted provider', () => {
  test('replays the written turns in order with defaults for stop reason, model and usage', async () => {
    const provider = createScriptedProvider(script);
    const first = await provider.generate(request(0));
    const second = await provider.generate(request(1));
    expect(first.content).toEqual(script[0]?.content);
    expect(first.stopReason).toBe('tool_use');
    expect(first.model).toBe('scripted');
    expect(first.usage.inputTokens).toBe(Math.ceil(JSON.stringify(request(0)).length / 4));
    expect(second.content).toEqual(script[1]?.content);
    expect(provider.name).toBe('scripted');
  });

  test('a text-only turn ends the turn; explicit fields win over defaults', async () => {
    const provider = createScriptedProvider([
      { content: [{ type: 'text', text: 'done' }] },
      {
        content: [{ type: 'text', text: 'cut' }],
        stopReason: 'max_tokens',
        model: 'recorded-model',
        usage: { inputTokens: 7, outputTokens: 3 },
      },
    ]);
    expect((await provider.generate(request(0))).stopReason).toBe('end_turn');
    expect(await provider.generate(request(1))).toMatchObject({
      stopReason: 'max_tokens',
      model: 'recorded-model',
      usage: { inputTokens: 7, outputTokens: 3 },
    });
  });

  test('records deep copies of the requests it was shown', async () => {
    const provider = createScriptedProvider(script);
    const shown = request(0);
    await provider.generate(shown);
    shown.messages.push({ role: 'user', content: [{ type: 'text', text: 'mutated later' }] });
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0]?.messages).toHaveLength(1);
    expect(provider.requests[0]?.system).toBe('sys');
  });

  test('returns copies, so a caller mutating a response cannot change the script', async () => {
    const provider = createScriptedProvider(script);
    const response = await provider.generate(request(0));
    response.content.pop();
    expect((await provider.generate(request(0))).content).toHaveLength(2);
  });

  test('throws a ProviderError when the script runs out', async () => {
    const provider = createScriptedProvider(script);
    const error = await provider.generate(request(2)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toMatch(/no turn 3 in a script of 2 turn/);
  });

  test('continues a stored transcript from where it paused, in a fresh provider', async () => {
    const resumed = createScriptedProvider(script);
    expect((await resumed.generate(request(1))).content).toEqual(script[1]?.content);
  });

  test('a script function sees the request and the turn index, and may end the script', async () => {
    const seen: number[] = [];
    const provider = createScriptedProvider((shown, turnIndex) => {
      seen.push(turnIndex);
      if (turnIndex > 0) return undefined;
      return { content: [{ type: 'text', text: `saw ${shown.messages.length} message(s)` }] };
    });
    expect((await provider.generate(request(0))).content).toEqual([
      { type: 'text', text: 'saw 1 message(s)' },
    ]);
    await expect(provider.generate(request(1))).rejects.toBeInstanceOf(ProviderError);
    expect(seen).toEqual([0, 1]);
  });

  test('wraps an error thrown by the script function in a ProviderError with the cause', async () => {
    const failure = new Error('bad fixture');
    const provider = createScriptedProvider(() => {
      throw failure;
    });
    const error = await provider.generate(request(0)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).cause).toBe(failure);
  });

  test('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      createScriptedProvider(script).generate(request(0), { signal: controller.signal }),
    ).rejects.toThrow();
  });
});
