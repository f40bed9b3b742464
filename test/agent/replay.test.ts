import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { parseAlerts, replayDecisions } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import { createOfflineAnalyst } from '../../src/model/index.js';
import { type AuditEventRecord, openStore, type Store } from '../../src/store/index.js';
import { runThroughApprovals } from '../fixtures/approval-run.js';
import { tempHome } from '../helpers.js';

const alert = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta')[0] as Alert;
const servers = Object.fromEntries(
  ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport: 'memory' }]),
);
const config = configSchema.parse({ servers });
let store: Store;
let gateway: Gateway;
let events: AuditEventRecord[];
let runId: string;

beforeAll(async () => {
  const home = tempHome();
  store = await openStore({ home });
  gateway = await createGateway({ config, home });
  const deps = { store, gateway, provider: createOfflineAnalyst(), skills: [], config };
  runId = await runThroughApprovals(deps, home, alert);
  events = await store.audit.list(runId);
});
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

describe('replaying recorded decisions', () => {
  it('comes out the same under the config the run used, approvals included', () => {
    const replay = replayDecisions(runId, events, config);
    expect(replay.evaluated).toBe(events.filter((event) => event.type === 'tool-call-request').length);
    expect(replay.changes).toEqual([]);
  });

  it('lists what a proposed config would change before it ships', () => {
    const proposed = configSchema.parse({
      servers,
      policy: { deny: ['intel.*'] },
      tiers: { 'ticket.create_ticket': 'destructive', 'edr.isolate_host': 'read' },
    });
    const replay = replayDecisions(runId, events, proposed);
    const byTool = (tool: string) => replay.changes.filter((change) => change.tool === tool);
    expect(byTool('intel.lookup_indicator').length).toBeGreaterThan(0);
    expect(
      byTool('intel.lookup_indicator').every(
        (change) => change.recorded.decision === 'allow' && change.replayed.decision === 'deny',
      ),
    ).toBe(true);
    expect(byTool('ticket.create_ticket')).toEqual([
      expect.objectContaining({ replayed: expect.objectContaining({ decision: 'require_approval' }) }),
    ]);
    // The isolation ran on a receipt; as a read it would have run without one.
    expect(byTool('edr.isolate_host').map((change) => change.replayed.decision)).toContain('allow');
    expect(byTool('siem.search_events')).toEqual([]);
  });

  it('applies the proposed budgets to the run’s own history', () => {
    const tight = configSchema.parse({ servers, limits: { maxToolCalls: 5 } });
    const replay = replayDecisions(runId, events, tight);
    expect(replay.changes.length).toBe(replay.evaluated - 5);
    expect(replay.changes.every((change) => /maxToolCalls/.test(change.replayed.reason))).toBe(true);
  });
});
