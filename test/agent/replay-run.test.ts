import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayRun, startRun } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { replayAudit } from '../../src/cli/replay.js';
import { openKillSwitchBoard } from '../../src/control/index.js';
import { bundledSkillsDirectory, loadSkills, type Skill } from '../../src/knowledge/index.js';
import { createOfflineAnalyst } from '../../src/model/index.js';
import { type AuditEventRecord, openStore, type Store } from '../../src/store/index.js';
import {
  fixtureConfig,
  type Investigations,
  maliciousAlert,
  runInvestigations,
} from '../fixtures/investigations.js';
import { tempHome } from '../helpers.js';

const config = fixtureConfig();
let store: Store;
let gateway: Gateway;
let skills: Skill[];
let runs: Investigations;
let home: string;

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  gateway = await createGateway({ config, home });
  skills = (await loadSkills([bundledSkillsDirectory])).skills;
  runs = await runInvestigations(
    { store, gateway, provider: createOfflineAnalyst(), skills, config },
    home,
    tempHome(),
  );
}, 600_000);
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

const replay = async (runId: string, events?: AuditEventRecord[]) =>
  replayRun(runId, events ?? (await store.audit.list(runId)), { config, skills });

describe('full-loop replay from the recording', () => {
  it.each([
    ['approved', 'completed'],
    ['benign', 'completed'],
    ['killed', 'killed'],
    ['overBudget', 'escalated'],
  ] as const)('drives the %s run again to the same decisions and end (%s)', async (name, status) => {
    const result = await replay(runs[name]);
    expect(result.divergence).toBeNull();
    expect(result).toMatchObject({ recordedStatus: status, replayedStatus: status });
    expect(result.compared).toBeGreaterThan(1);
  });

  it('engages a tool-scoped kill switch again over the span it denied calls, then releases it', async () => {
    const board = openKillSwitchBoard(tempHome());
    const killedGateway = await createGateway({ config, home, killSwitches: board });
    let runId: string;
    try {
      const engaged = await board.engage(
        { type: 'tool', tool: 'edr.process_tree' },
        'dana',
        'EDR API incident',
        new Date(),
      );
      runId = (
        await startRun(
          {
            store,
            gateway: killedGateway,
            provider: createOfflineAnalyst(),
            skills,
            config,
            killSwitches: board,
          },
          maliciousAlert,
        )
      ).runId;
      await board.release(engaged.id);
    } finally {
      await killedGateway.close();
    }
    const events = await store.audit.list(runId);
    const denials = events.filter(
      (event) =>
        event.type === 'policy-decision' && (event.data as { check?: string }).check === 'kill-switch',
    );
    expect(denials.length).toBeGreaterThan(0);
    expect(denials[0]?.data).toMatchObject({ tool: 'edr.process_tree', killSwitch: { engagedBy: 'dana' } });
    const result = await replay(runId, events);
    expect(result.divergence).toBeNull();
    expect(result.replayedStatus).toBe(result.recordedStatus);
  });

  it('replays the approval pauses with the recorded decisions, in a scratch store', async () => {
    const before = await store.runs.list({ limit: 100 });
    const result = await replay(runs.approved);
    expect(result.divergence).toBeNull();
    // Nothing was written to the real store: no new run, no new event.
    expect(await store.runs.list({ limit: 100 })).toEqual(before);
  });

  it('names the first decision that comes out differently, with its sequence number', async () => {
    const events = await store.audit.list(runs.approved);
    const start = events[0]!;
    const data = start.data as { policy: { policy: { deny: string[] } } };
    // The run's recorded policy, changed: the replay now decides under a deny list for edr.
    const edited = [
      { ...start, data: { ...data, policy: { ...data.policy, policy: { deny: ['edr.*'] } } } },
      ...events.slice(1),
    ];
    const firstEdr = events.find(
      (event) =>
        event.type === 'policy-decision' && String((event.data as { tool: string }).tool).startsWith('edr.'),
    );
    const result = await replay(runs.approved, edited);
    expect(result.divergence?.recorded).toMatchObject({
      seq: firstEdr?.seq,
      text: expect.stringMatching(/allow/),
    });
    expect(result.divergence?.replayed?.text).toMatch(/deny by cedar \(edr\.\* is on policy\.deny/);
  });

  it('reports a recording that ends early as a divergence, not a crash', async () => {
    const events = await store.audit.list(runs.benign);
    const cut = events.slice(0, events.findIndex((event) => event.type === 'model-response') + 1);
    const result = await replay(runs.benign, cut);
    expect(result.divergence).not.toBeNull();
    expect(result.replayedStatus).toBe('failed');
  });
});

describe('warden audit replay', () => {
  const replayCommand = async (runIds: string[], options: { withConfig?: string; policy?: string }) => {
    const lines: string[] = [];
    const context = { config, configPath: null, home, out: (line: string) => lines.push(line) };
    return { ok: await replayAudit(context, runIds, options), lines };
  };

  it('passes when every run reproduces and nothing changes under the current rules', async () => {
    await store.close();
    const { ok, lines } = await replayCommand([runs.approved, runs.killed], {});
    expect(lines.filter((line) => /decisions reproduced/.test(line))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/2 run\(s\): every decision comes out the same/);
    expect(ok).toBe(true);
  }, 180_000);

  it('fails and lists the changes under a proposed config', async () => {
    const proposed = join(home, 'proposed.yaml');
    writeFileSync(proposed, 'policy:\n  deny: ["intel.*"]\n');
    const { ok, lines } = await replayCommand([runs.approved], { withConfig: proposed });
    expect(ok).toBe(false);
    expect(lines.some((line) => /intel\.lookup_indicator: allow → deny/.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/decision\(s\) would change under the proposed rules/);
  }, 180_000);
});
