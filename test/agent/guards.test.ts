import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { type LoopDeps, parseAlerts, startRun } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema, type WardenConfig } from '../../src/config/index.js';
import { openKillSwitchBoard } from '../../src/control/index.js';
import { createScriptedProvider, type ModelProvider, type ToolCallBlock } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome, tsxArgs } from '../helpers.js';

const run = promisify(execFile);
const alert = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta')[0] as Alert;
const baseConfig = {
  servers: {
    ticket: { bundled: 'ticket', transport: 'memory' },
    vendor: { command: process.execPath, args: [] as string[] },
  },
  tiers: { 'vendor.*': 'read' },
};

let home: string;
let store: Store;
let gateway: Gateway;
let config: WardenConfig;

beforeAll(async () => {
  home = tempHome();
  baseConfig.servers.vendor.args = tsxArgs('test/fixtures/external-server.ts', home);
  config = configSchema.parse(baseConfig);
  store = await openStore({ home });
  gateway = await createGateway({ config, home, killSwitches: openKillSwitchBoard(home) });
});
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

function deps(provider: ModelProvider, overrides: Partial<LoopDeps> = {}): LoopDeps {
  return {
    store,
    gateway,
    provider,
    skills: [],
    config,
    killSwitches: openKillSwitchBoard(home),
    ...overrides,
  };
}

function call(id: string, name: string, input: Record<string, unknown>): ToolCallBlock {
  return { type: 'tool_call', id, name, input };
}

async function trail(runId: string) {
  return store.audit.list(runId);
}

describe('run guards', () => {
  it('a kill engaged from another process aborts the in-flight tool call and ends the run killed', async () => {
    const script = createScriptedProvider([
      { content: [call('c1', 'vendor.sleep', { ms: 20_000 })] },
      { content: [call('c2', 'vendor.lookup', { q: 'after the kill' })] },
    ]);
    const started = Date.now();
    const running = startRun(deps(script), alert);
    let runId: string | undefined;
    while (!runId) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      runId = (await store.runs.list({ status: 'running', limit: 1 }))[0]?.id;
    }
    // Let the slow call start, then engage the switch from a second process.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { stdout } = await run(
      process.execPath,
      tsxArgs(
        'src/cli/main.ts',
        '--home',
        home,
        'kill',
        '--run',
        runId,
        '--by',
        'alice',
        '--reason',
        'runaway',
      ),
      {
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(stdout).toMatch(/engaged kill-[0-9a-f]+: run run-/);
    const outcome = await running;
    expect(outcome.status).toBe('killed');
    expect(outcome.error).toMatch(/engaged by alice: runaway/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(existsSync(join(home, 'slept.log'))).toBe(false);
    const events = await trail(outcome.runId);
    expect(events.find((event) => event.type === 'kill-switch-engage')?.data).toMatchObject({
      engagedBy: 'alice',
      reason: 'runaway',
    });
    expect(
      events
        .filter((event) => event.type === 'tool-call-request')
        .map((event) => (event.data as { tool: string }).tool),
    ).toEqual(['vendor.sleep']);
    expect(script.requests).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', data: { status: 'killed' } });

    // Released, the same tools work again for new runs.
    const board = openKillSwitchBoard(home);
    for (const engaged of board.current()) await board.release(engaged.id);
    const after = await startRun(
      deps(
        createScriptedProvider([
          { content: [call('c1', 'vendor.lookup', { q: 'x' })] },
          {
            content: [
              call('c2', 'submit_verdict', {
                verdict: 'benign',
                confidence: 0.9,
                summary: 's',
                techniques: [],
                evidence: [],
                recommendedActions: [],
              }),
            ],
          },
        ]),
      ),
      alert,
    );
    expect(after.status).toBe('completed');
  });

  it('a kill switch engaged before a run stops it before any model call', async () => {
    const board = openKillSwitchBoard(home);
    const engaged = await board.engage({ type: 'all' }, 'bob', 'maintenance', new Date());
    try {
      const script = createScriptedProvider([{ content: [call('c1', 'vendor.lookup', { q: 'x' })] }]);
      const outcome = await startRun(deps(script), alert);
      expect(outcome.status).toBe('killed');
      expect(script.requests).toHaveLength(0);
    } finally {
      await board.release(engaged.id);
    }
  });

  it('stops the run loudly when the token budget is spent, naming the cap', async () => {
    const script = createScriptedProvider([
      { content: [call('c1', 'vendor.lookup', { q: 'x' })], usage: { inputTokens: 900, outputTokens: 200 } },
    ]);
    const outcome = await startRun(
      deps(script, { config: { ...config, limits: { ...config.limits, maxTokens: 1000 } } }),
      alert,
    );
    expect(outcome.status).toBe('escalated');
    expect(outcome.error).toMatch(/limits\.maxTokens \(1000\) exceeded, 1100 used/);
    const events = await trail(outcome.runId);
    expect(events.find((event) => event.type === 'budget-exceeded')?.data).toEqual({
      cap: 'limits.maxTokens',
      limit: 1000,
      used: 1100,
    });
    expect(events.some((event) => event.type === 'tool-call-request')).toBe(false);
  });

  it('stops the run when its active time runs out', async () => {
    let clock = Date.parse('2026-11-18T10:00:00Z');
    const now = () => {
      clock += 30_000;
      return new Date(clock);
    };
    const script = createScriptedProvider(() => ({
      content: [call(`c${clock}`, 'vendor.lookup', { q: 'again' })],
    }));
    const outcome = await startRun(
      deps(script, { now, config: { ...config, limits: { ...config.limits, maxSeconds: 120 } } }),
      alert,
    );
    expect(outcome.status).toBe('escalated');
    expect(outcome.error).toMatch(/limits\.maxSeconds \(120\) exceeded/);
  });

  it('escalates a low-confidence verdict and withholds every action it recommends', async () => {
    const script = createScriptedProvider([
      {
        content: [
          call('c1', 'submit_verdict', {
            verdict: 'malicious',
            confidence: 0.3,
            summary: 'unsure',
            techniques: [],
            evidence: [],
            recommendedActions: [
              {
                tool: 'ticket.create_ticket',
                args: { title: 'low-confidence-ticket', severity: 'high', body: 'x' },
                reason: 'r',
              },
            ],
          }),
        ],
      },
    ]);
    const outcome = await startRun(deps(script), alert);
    expect(outcome.status).toBe('escalated');
    expect(outcome.error).toMatch(/confidence 0\.3 is below control\.minConfidence \(0\.5\)/);
    expect(outcome.actions).toEqual([
      expect.objectContaining({ tool: 'ticket.create_ticket', status: 'withheld' }),
    ]);
    const events = await trail(outcome.runId);
    expect(events.some((event) => event.type === 'tool-call-request')).toBe(false);
  });
});
