import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alert, parseAlerts } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import {
  autonomyEvidence,
  type EvalReport,
  evalEvidence,
  feedbackStats,
  recordActionFeedback,
  recordApprovalFeedback,
  recordVerdictFeedback,
} from '../../src/eval/index.js';
import { createOfflineAnalyst } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { runThroughApprovals } from '../fixtures/approval-run.js';
import { tempHome } from '../helpers.js';

const alert = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta')[0] as Alert;
const servers = Object.fromEntries(
  ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport: 'memory' }]),
);
const config = configSchema.parse({ servers });
let store: Store;
let gateway: Gateway;
let runId: string;
const who = { by: 'analyst', note: 'reviewed', at: '2026-11-19T10:00:00.000Z' };

beforeAll(async () => {
  const home = tempHome('warden-feedback-');
  store = await openStore({ home });
  gateway = await createGateway({ config, home });
  runId = await runThroughApprovals(
    { store, gateway, provider: createOfflineAnalyst(), skills: [], config },
    home,
    alert,
  );
}, 400_000);
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

describe('analyst feedback on the real store', () => {
  it('records verdict labels as agreement with the agent, on the run’s audit chain', async () => {
    const run = await store.runs.get(runId);
    expect((run?.verdict as { verdict: string } | undefined)?.verdict).toBe('malicious');
    expect((await recordVerdictFeedback(store, runId, { ...who, verdict: 'malicious' })).agree).toBe(true);
    expect((await recordVerdictFeedback(store, runId, { ...who, verdict: 'benign' })).agree).toBe(false);
    const audited = (await store.audit.list(runId)).filter((event) => event.type === 'feedback-record');
    expect(audited.map((event) => (event.data as { verdict: string }).verdict)).toEqual([
      'malicious',
      'benign',
    ]);
    const stats = await feedbackStats(store);
    // The latest label per run counts.
    expect(stats.verdicts).toMatchObject({ reviewed: 1, agreed: 0, byLabel: { benign: 1 } });
  });

  it('turns an executed destructive action the analyst rejects into a critical reversal', async () => {
    const approvals = await store.approvals.list({ runId, limit: 10 });
    const executed = approvals.find((approval) => approval.status === 'approved');
    const denied = approvals.find((approval) => approval.status === 'denied');
    expect(executed?.consumedAt).not.toBeNull();
    const before = await feedbackStats(store);
    const row = (tool: string | undefined, stats = before) =>
      stats.classes.find((c) => c.actionClass === tool);
    // Without reviews, the approver's decisions are the evidence.
    expect(row(executed?.tool)).toMatchObject({ agreements: 1, criticalReversals: 0 });

    const reversal = await recordApprovalFeedback(store, runId, {
      ...who,
      approvalId: executed?.id ?? '',
      agree: false,
      critical: false,
    });
    expect(reversal).toMatchObject({ executed: true, critical: true, actionClass: executed?.tool });
    const agreed = await recordApprovalFeedback(store, runId, {
      ...who,
      approvalId: denied?.id ?? '',
      agree: true,
      critical: false,
    });
    expect(agreed).toMatchObject({ executed: false, critical: false });

    const after = await feedbackStats(store);
    const classes = [executed?.tool, denied?.tool];
    const totals = after.classes.filter((c) => classes.includes(c.actionClass));
    expect(totals.reduce((sum, c) => sum + c.criticalReversals, 0)).toBe(1);
    expect(totals.reduce((sum, c) => sum + c.decisions, 0)).toBe(2);
    expect(row(executed?.tool, after)?.lastCriticalAt).toBe(who.at);
  });

  it('reviews actions by tool, and refuses what the run never did or another run’s approval', async () => {
    const isolation = await recordActionFeedback(store, runId, {
      ...who,
      tool: 'edr.isolate_host',
      wrong: true,
    });
    expect(isolation).toMatchObject({ executed: true, critical: true, actionClass: 'edr.isolate_host' });
    const rejected = await recordActionFeedback(store, runId, {
      ...who,
      tool: 'edr.kill_process',
      wrong: true,
    });
    expect(rejected).toMatchObject({ executed: false, critical: false });
    await expect(
      recordActionFeedback(store, runId, { ...who, tool: 'iam.disable_account', wrong: true }),
    ).rejects.toThrow(/neither took nor proposed iam\.disable_account/);
    await expect(
      recordApprovalFeedback(store, runId, { ...who, approvalId: 'apr-nope', agree: true, critical: false }),
    ).rejects.toThrow(/is not one of run/);
    await expect(recordVerdictFeedback(store, 'run-missing', { ...who, verdict: 'benign' })).rejects.toThrow(
      /does not exist/,
    );
  });

  it('joins feedback with eval reports into the autonomy evidence per action class', async () => {
    const stats = await feedbackStats(store);
    const reports = [0.995, 0.97].map((recall) => ({ metrics: { recall } }) as unknown as EvalReport);
    const evidence = autonomyEvidence(stats, evalEvidence(reports));
    // The approval review and the action review of the isolation both count against it.
    expect(evidence['edr.isolate_host']).toMatchObject({
      criticalReversals: 2,
      evalRuns: 2,
      evalRecall: 0.97,
    });
    expect(evidence['edr.kill_process']).toMatchObject({ criticalReversals: 0 });
  });
});
