import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { parseAlerts, startRun } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import { createCostMeter } from '../../src/control/index.js';
import { createScriptedProvider } from '../../src/model/index.js';
import type { ScriptedTurn } from '../../src/model/scripted.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../helpers.js';

const alert = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta')[0] as Alert;

describe('the price table', () => {
  const meter = createCostMeter({ 'local-llama': { inputPerMTok: 0.1, outputPerMTok: 0.2 } });

  it('prices by exact id or the longest prefix, cache reads and writes included', () => {
    expect(meter.priceOf('claude-opus-4-8').row).toBe('claude-opus-4-8');
    expect(meter.priceOf('claude-sonnet-4-5-20250929').row).toBe('claude-sonnet-4');
    expect(meter.priceOf('claude-opus-4-1-20250805').row).toBe('claude-opus-4-1');
    expect(meter.priceOf('offline-analyst-1').row).toBe('offline');
    expect(meter.priceOf('claude-opus-48').row).toBeNull(); // a prefix must end before a '-'
    const cost = meter.costOf('claude-opus-4-8', {
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cacheReadTokens: 1_000_000,
      cacheWriteTokens: 100_000,
    });
    expect(cost.costUsd).toBeCloseTo(5 + 2.5 + 0.5 + 0.625, 9);
    expect(cost.note).toBeNull();
    expect(
      meter.costOf('local-llama-3', { inputTokens: 1_000_000, outputTokens: 1_000_000 }).costUsd,
    ).toBeCloseTo(0.3, 9);
    expect(meter.costOf('scripted', { inputTokens: 5_000_000, outputTokens: 5_000_000 }).costUsd).toBe(0);
  });

  it('charges an unknown model at the dearest row and says so', () => {
    const cost = meter.costOf('claude-next-9', { inputTokens: 1_000_000, outputTokens: 0 });
    expect(cost.costUsd).toBe(15); // claude-opus-4 / 4-1 input price
    expect(cost.note).toMatch(
      /claude-next-9 is not in the price table; charged at the dearest row \(claude-opus-4/,
    );
  });
});

describe('limits.maxCostUsd', () => {
  let home: string;
  let store: Store;
  let gateway: Gateway;
  beforeAll(async () => {
    home = tempHome();
    store = await openStore({ home });
    gateway = await createGateway({ config: configSchema.parse({ servers: {} }), home });
  });
  afterAll(async () => {
    await gateway?.close();
    await store?.close();
  });

  const turn = (id: string, model: string): ScriptedTurn => ({
    model,
    usage: { inputTokens: 100_000, outputTokens: 10_000, cacheReadTokens: 50_000 },
    content: [{ type: 'tool_call', id, name: 'siem.search_events', input: { host: 'FIN-WS01' } }],
  });

  async function runWith(
    limits: Record<string, unknown>,
    model: string,
    pricing: Record<string, unknown> = {},
  ) {
    const config = configSchema.parse({ servers: {}, limits, pricing });
    const provider = createScriptedProvider([turn('c1', model), turn('c2', model), turn('c3', model)]);
    const outcome = await startRun({ store, gateway, provider, skills: [], config }, alert);
    return { outcome, events: await store.audit.list(outcome.runId) };
  }

  it('stops the run on the response that crosses the cap, naming it, before that turn’s calls run', async () => {
    // Each turn on claude-opus-4-8: 0.5 input + 0.25 output + 0.025 cache reads = $0.775.
    const { outcome, events } = await runWith({ maxCostUsd: 1 }, 'claude-opus-4-8');
    expect(outcome.status).toBe('escalated');
    expect(outcome.error).toMatch(/limits\.maxCostUsd \(\$1\) exceeded, \$1\.55 spent; a human must triage/);
    const responses = events.filter((event) => event.type === 'model-response');
    expect(responses.map((event) => (event.data as { costUsd: number }).costUsd)).toEqual([
      expect.closeTo(0.775, 9),
      expect.closeTo(0.775, 9),
    ]);
    expect(events.find((event) => event.type === 'budget-exceeded')?.data).toEqual({
      cap: 'limits.maxCostUsd',
      limit: 1,
      used: 1.55,
    });
    expect(events.at(-1)).toMatchObject({ type: 'run-end', data: { costUsd: expect.closeTo(1.55, 9) } });
    const requested = events.filter((event) => event.type === 'tool-call-request');
    expect(requested.map((event) => (event.data as { callId: string }).callId)).toEqual(['c1']);
  });

  it('prices from config rows over the built-in ones, and lets a run under the cap go on', async () => {
    // Cached tokens count toward limits.maxTokens (160k a turn here): lift that cap out of the way.
    const { outcome, events } = await runWith({ maxCostUsd: 1, maxTokens: 1_000_000 }, 'claude-opus-4-8', {
      'claude-opus-4-8': { inputPerMTok: 1, outputPerMTok: 1 },
    });
    // 0.1 + 0.01 + 0.005 (cache reads default to 10% of input) per turn: three turns, then out of script.
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/no turn 4/);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', data: { costUsd: expect.closeTo(0.345, 9) } });
  });

  it('charges an unknown model at the dearest price, recorded on the response', async () => {
    const { outcome, events } = await runWith({ maxCostUsd: 2 }, 'claude-next-9');
    expect(outcome.error).toMatch(/limits\.maxCostUsd/);
    const response = events.find((event) => event.type === 'model-response');
    expect(response?.data).toMatchObject({
      costUsd: expect.closeTo(1.5 + 0.75 + 0.075, 9),
      costNote: expect.stringMatching(/claude-next-9 is not in the price table/),
    });
  });
});
