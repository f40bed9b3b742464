import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { parseAlerts, startRun } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import { createAutonomyBook } from '../../src/control/index.js';
import { bundledSkillsDirectory, loadSkills, type Skill } from '../../src/knowledge/index.js';
import { createOfflineAnalyst } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../helpers.js';

const alert = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta')[0] as Alert;
const config = configSchema.parse({
  servers: Object.fromEntries(
    ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport: 'memory' }]),
  ),
  autonomy: { classes: { 'ticket.create_ticket': 'suggest' } },
});

let home: string;
let store: Store;
let skills: Skill[];
let suggesting: Gateway;
let notifying: Gateway;
const suggestBook = createAutonomyBook(config.autonomy);
const notifyBook = createAutonomyBook({ ...config.autonomy, classes: {} });

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  skills = (await loadSkills([bundledSkillsDirectory])).skills;
  suggesting = await createGateway({ config, home, autonomy: suggestBook });
  notifying = await createGateway({ config, home, autonomy: notifyBook });
});

afterAll(async () => {
  await suggesting?.close();
  await notifying?.close();
  await store?.close();
});

describe('autonomy levels in a run', () => {
  it('suggest: the write is not executed but listed as a recommendation', async () => {
    const deps = {
      store,
      gateway: suggesting,
      provider: createOfflineAnalyst(),
      skills,
      config,
      autonomy: suggestBook,
    };
    const outcome = await startRun(deps, alert);
    expect(outcome.actions).toContainEqual(
      expect.objectContaining({ tool: 'ticket.create_ticket', status: 'suggested' }),
    );
    const events = await store.audit.list(outcome.runId);
    const decision = events.find(
      (event) =>
        event.type === 'policy-decision' && (event.data as { tool: string }).tool === 'ticket.create_ticket',
    );
    expect(decision?.data).toMatchObject({
      decision: 'suggest',
      autonomy: 'suggest',
      reasons: [{ policy: 'autonomy-suggest' }],
    });
    expect(events.some((event) => event.type === 'action-notify')).toBe(false);
  });

  it('notify (the reversible default): the write runs and a notification is recorded and shown', async () => {
    const deps = {
      store,
      gateway: notifying,
      provider: createOfflineAnalyst(),
      skills,
      config,
      autonomy: notifyBook,
    };
    const outcome = await startRun(deps, alert);
    expect(outcome.actions).toContainEqual(
      expect.objectContaining({ tool: 'ticket.create_ticket', status: 'executed', notified: true }),
    );
    const events = await store.audit.list(outcome.runId);
    expect(events.find((event) => event.type === 'action-notify')?.data).toMatchObject({
      tool: 'ticket.create_ticket',
      autonomy: 'notify',
    });
  });
});
