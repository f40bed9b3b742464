import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../../src/agent/index.js';
import { configSchema } from '../../src/config/index.js';
import {
  checkDemotions,
  createAutonomyBook,
  demoteClass,
  gatherEvidence,
  hashArgs,
  promoteClass,
} from '../../src/control/index.js';
import { StateError } from '../../src/errors.js';
import {
  EVAL_EVIDENCE_WINDOW,
  type EvalReport,
  evalEvidenceSource,
  recordEvalResult,
} from '../../src/eval/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../helpers.js';

const settings = configSchema.parse({
  autonomy: {
    minDecisions: 5,
    minAgreement: 0.8,
    demoteBelow: 0.7,
    classes: { 'ticket.update_status': 'approve' },
  },
}).autonomy;
let home: string;
let store: Store;
let counter = 0;

/** Records human decisions on a class the way `warden approvals approve|deny` does. */
async function humanDecisions(tool: string, approved: number, denied: number): Promise<void> {
  for (const status of [...Array(approved).fill('approved'), ...Array(denied).fill('denied')] as const) {
    counter++;
    const args = { id: `T-${counter}` };
    const now = new Date(Date.UTC(2026, 0, 1, 0, counter));
    const approval = await store.approvals.create({
      id: `apr-auto-${counter}`,
      runId: 'run-autonomy',
      tool,
      args,
      argsHash: hashArgs(args),
      tier: 'reversible',
      reason: 'test',
      requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
    });
    await recordDecision(
      store,
      home,
      { approvalId: approval.id, status, by: 'analyst', note: null, now },
      { settings },
    );
  }
}

const at = new Date('2025-12-01T00:00:00Z');

/** The parts of an eval report (`warden eval --out`) the history records. */
function evalReport(provider: string, recall: number): EvalReport {
  return {
    createdAt: at.toISOString(),
    suite: 'otrf-test',
    provider,
    metrics: { cases: 100, recall, falsePositiveRate: 0.05 },
  } as EvalReport;
}

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
});

afterAll(async () => {
  await store?.close();
});

describe('autonomy ladder', () => {
  it('defaults: read auto, reversible notify, destructive approve; config classes override', async () => {
    const book = createAutonomyBook(settings);
    await book.refresh(store.autonomy, at);
    expect(book.levelOf('siem.search_events', 'read')).toBe('auto');
    expect(book.levelOf('ticket.add_comment', 'reversible')).toBe('notify');
    expect(book.levelOf('edr.isolate_host', 'destructive')).toBe('approve');
    expect(book.levelOf('ticket.update_status', 'reversible')).toBe('approve');
  });

  it('refuses promotion without evidence and says what is missing', async () => {
    await humanDecisions('ticket.update_status', 2, 0);
    const promoting = promoteClass(store.autonomy, settings, {
      actionClass: 'ticket.update_status',
      current: 'approve',
      by: 'lead',
      reason: 'analysts always agree',
      now: at,
    });
    await expect(promoting).rejects.toThrow(StateError);
    await expect(promoting).rejects.toThrow(/2 human decisions recorded, autonomy\.minDecisions needs 5/);
  });

  it('promotes on enough agreeing decisions and a recorded eval of the provider, records who and why, and the book picks it up', async () => {
    await humanDecisions('ticket.update_status', 4, 0);
    const request = {
      actionClass: 'ticket.update_status',
      current: 'approve' as const,
      by: 'lead',
      reason: '6 of 6 approved',
      now: at,
    };
    const evals = evalEvidenceSource(home, 'offline');
    await expect(promoteClass(store.autonomy, settings, request, evals)).rejects.toThrow(
      /0 eval runs of this provider recorded, autonomy\.minEvalRuns needs 1/,
    );
    // An eval of another provider says nothing about this one; a weak eval of this one blocks.
    await recordEvalResult(home, evalReport('anthropic', 0.99));
    await recordEvalResult(home, evalReport('offline', 0.6));
    await expect(promoteClass(store.autonomy, settings, request, evals)).rejects.toThrow(
      /eval recall 60\.0% over 1 runs is below 80\.0%/,
    );
    // The ladder looks at the provider's latest runs; the weak one drops out of the window.
    for (let index = 0; index < EVAL_EVIDENCE_WINDOW; index++)
      await recordEvalResult(home, evalReport('offline', 0.97));
    const change = await promoteClass(store.autonomy, settings, request, evals);
    expect(change).toMatchObject({ from: 'approve', to: 'notify', kind: 'promote', by: 'lead' });
    expect(change.evidence).toMatchObject({
      decisions: 6,
      agreements: 6,
      criticalReversals: 0,
      evalRuns: EVAL_EVIDENCE_WINDOW,
      evalRecall: 0.97,
    });
    const book = createAutonomyBook(settings);
    await book.refresh(store.autonomy, at);
    expect(book.levelOf('ticket.update_status', 'reversible')).toBe('notify');
    expect(await store.autonomy.history({ actionClass: 'ticket.update_status', limit: 5 })).toMatchObject([
      { kind: 'promote', by: 'lead', reason: '6 of 6 approved' },
    ]);
  });

  it('refuses to promote on a stale level (someone else changed it meanwhile)', async () => {
    await expect(
      promoteClass(
        store.autonomy,
        settings,
        { actionClass: 'ticket.update_status', current: 'approve', by: 'other', reason: 'race', now: at },
        evalEvidenceSource(home, 'offline'),
      ),
    ).rejects.toThrow(/changed level meanwhile/);
  });

  it('demotes automatically when agreement falls below demoteBelow, as decisions are recorded', async () => {
    await humanDecisions('ticket.update_status', 0, 3);
    const evidence = await gatherEvidence(store.autonomy, 'ticket.update_status');
    expect(evidence).toMatchObject({ decisions: 9, agreements: 6 });
    const [last] = await store.autonomy.history({ actionClass: 'ticket.update_status', limit: 1 });
    expect(last).toMatchObject({ kind: 'auto-demote', from: 'notify', to: 'approve', by: 'warden' });
    expect(last?.reason).toMatch(/fell below autonomy\.demoteBelow/);
  });

  it('blocks promotion and demotes on a critical reversal from extra evidence (analyst feedback)', async () => {
    await humanDecisions('ticket.add_comment', 6, 0);
    const reversals = async (actionClass: string) => ({
      criticalReversals: actionClass === 'ticket.add_comment' ? 1 : 0,
    });
    await expect(
      promoteClass(
        store.autonomy,
        settings,
        { actionClass: 'ticket.add_comment', current: 'notify', by: 'lead', reason: 'x', now: at },
        reversals,
      ),
    ).rejects.toThrow(/1 critical reversal/);
    const demoted = await checkDemotions(
      store.autonomy,
      { ...settings, classes: { 'ticket.add_comment': 'notify' } },
      at,
      reversals,
    );
    expect(demoted).toMatchObject([{ actionClass: 'ticket.add_comment', from: 'notify', to: 'approve' }]);
  });

  it('demotes on request without evidence, and refuses a move the wrong way', async () => {
    const change = await demoteClass(store.autonomy, {
      actionClass: 'ticket.add_comment',
      current: 'approve',
      by: 'lead',
      reason: 'incident review',
      now: at,
    });
    expect(change).toMatchObject({ from: 'approve', to: 'suggest', kind: 'demote' });
    await expect(
      demoteClass(store.autonomy, {
        actionClass: 'ticket.add_comment',
        current: 'suggest',
        by: 'lead',
        reason: 'x',
        now: at,
      }),
    ).rejects.toThrow(/demotion goes down the ladder/);
  });

  it("counts analysts' action reviews from warden feedback, and a critical reversal there blocks promotion", async () => {
    const review = (agree: boolean, critical: boolean, minute: number) =>
      store.feedback.record({
        runId: 'run-feedback',
        kind: 'action',
        actionClass: 'iam.revoke_sessions',
        approvalId: null,
        verdict: null,
        agree,
        executed: true,
        critical,
        note: null,
        by: 'analyst',
        at: new Date(Date.UTC(2026, 1, 1, 0, minute)).toISOString(),
      });
    for (let minute = 0; minute < 6; minute++) await review(true, false, minute);
    const before = await gatherEvidence(store.autonomy, 'iam.revoke_sessions');
    expect(before).toMatchObject({ decisions: 6, agreements: 6, criticalReversals: 0 });
    await review(false, true, 10);
    const after = await gatherEvidence(store.autonomy, 'iam.revoke_sessions');
    expect(after).toMatchObject({ decisions: 7, agreements: 6, criticalReversals: 1 });
    await expect(
      promoteClass(store.autonomy, settings, {
        actionClass: 'iam.revoke_sessions',
        current: 'approve',
        by: 'lead',
        reason: 'reviewed',
        now: at,
      }),
    ).rejects.toThrow(/critical reversal/);
  });
});
