import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, StateError } from '../../src/errors.js';
import { canonicalJson, openStore, type Store, sha256Hex } from '../../src/store/index.js';
import { at, makeHome, removeHome } from './helpers.js';

let home: string;
let store: Store;

beforeAll(async () => {
  home = makeHome();
  store = await openStore({ home });
});

afterAll(async () => {
  await store?.close();
  removeHome(home);
});

const nestedState = {
  turn: 3,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'isolate host-7? ✓ 日本' }] }],
  flags: { tainted: true, budget: { tools: 4, tokens: 12_345.5 } },
  empty: [],
  nothing: null,
};

function newRun(id: string, minutes = 0) {
  return {
    id,
    alertId: `alert-${id}`,
    alertTitle: `Suspicious ${id}`,
    provider: 'offline',
    state: nestedState,
    at: at(minutes),
  };
}

describe('runs', () => {
  it('creates and reads back a run with its nested state', async () => {
    const created = await store.runs.create(newRun('run-1'));
    expect(created).toEqual({
      id: 'run-1',
      alertId: 'alert-run-1',
      alertTitle: 'Suspicious run-1',
      provider: 'offline',
      status: 'running',
      state: nestedState,
      verdict: null,
      error: null,
      waiter: null,
      waiterHeartbeatAt: null,
      createdAt: at(0),
      updatedAt: at(0),
    });
    expect(await store.runs.get('run-1')).toEqual(created);
    expect(await store.runs.get('run-missing')).toBeNull();
  });

  it('refuses a duplicate id', async () => {
    await expect(store.runs.create(newRun('run-1'))).rejects.toThrow(StateError);
  });

  it('updates only the given fields', async () => {
    await store.runs.create(newRun('run-2', 1));
    await store.runs.update(
      'run-2',
      { status: 'awaiting_approval', waiter: '42@host', waiterHeartbeatAt: at(2) },
      at(2),
    );
    const afterFirst = await store.runs.get('run-2');
    expect(afterFirst).toMatchObject({
      status: 'awaiting_approval',
      state: nestedState,
      waiter: '42@host',
      waiterHeartbeatAt: at(2),
      verdict: null,
      createdAt: at(1),
      updatedAt: at(2),
    });

    const verdict = { label: 'malicious', confidence: 0.9, techniques: ['T1059.001'] };
    await store.runs.update('run-2', { verdict, state: 'a plain string state', waiter: null }, at(3));
    expect(await store.runs.get('run-2')).toMatchObject({
      status: 'awaiting_approval',
      verdict,
      state: 'a plain string state',
      waiter: null,
      waiterHeartbeatAt: at(2),
      updatedAt: at(3),
    });
  });

  it('fails loudly when updating a run that does not exist', async () => {
    await expect(store.runs.update('run-missing', { status: 'failed' }, at(1))).rejects.toThrow(StateError);
  });

  it('lists newest first, filtered by status and limited', async () => {
    await store.runs.create(newRun('run-3', 5));
    await store.runs.update('run-3', { status: 'completed' }, at(6));
    const all = await store.runs.list({ limit: 10 });
    expect(all.map((run) => run.id)).toEqual(['run-3', 'run-2', 'run-1']);
    expect((await store.runs.list({ limit: 2 })).map((run) => run.id)).toEqual(['run-3', 'run-2']);
    expect((await store.runs.list({ status: 'completed', limit: 10 })).map((run) => run.id)).toEqual([
      'run-3',
    ]);
    expect(await store.runs.list({ status: 'killed', limit: 10 })).toEqual([]);
  });

  it('lets exactly one of two concurrent claims win', async () => {
    await store.runs.create(newRun('run-claim', 7));
    await store.runs.update('run-claim', { status: 'awaiting_approval' }, at(8));
    const results = await Promise.all([
      store.runs.claim('run-claim', ['awaiting_approval'], at(9)),
      store.runs.claim('run-claim', ['awaiting_approval'], at(9)),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.runs.get('run-claim')).toMatchObject({ status: 'running', updatedAt: at(9) });
    expect(await store.runs.claim('run-claim', ['awaiting_approval', 'failed'], at(10))).toBe(false);
    expect(await store.runs.claim('run-missing', ['awaiting_approval'], at(10))).toBe(false);
  });

  it('round-trips NUL characters and lone surrogates in text and state', async () => {
    const title = 'evil\u0000title \uD800 \uE000';
    const state = { 'k\u0000ey': ['v\u0000', '\uDFFF'], emoji: '😀' };
    await store.runs.create({ ...newRun('run-nul', 11), alertTitle: title, state });
    await store.runs.update('run-nul', { error: 'boom\u0000' }, at(12));
    expect(await store.runs.get('run-nul')).toMatchObject({ alertTitle: title, state, error: 'boom\u0000' });
  });
});

function newApproval(id: string, runId: string, minutes = 0) {
  const args = { host: 'host-7', reason: 'beaconing', options: { force: false, ports: [443, 8443] } };
  return {
    id,
    runId,
    tool: 'edr.isolate_host',
    args,
    argsHash: sha256Hex(canonicalJson(args)),
    tier: 'destructive',
    reason: 'isolation needs a human',
    requestedAt: at(minutes),
    expiresAt: at(minutes + 30),
  };
}

describe('approvals', () => {
  it('creates a pending approval and reads it back', async () => {
    const input = newApproval('apr-1', 'run-1');
    const created = await store.approvals.create(input);
    expect(created).toEqual({
      ...input,
      status: 'pending',
      decidedAt: null,
      decidedBy: null,
      decisionNote: null,
      consumedAt: null,
      requiredApprovers: 1,
      approvers: [],
      policyVersion: null,
    });
    expect(await store.approvals.get('apr-1')).toEqual(created);
    expect(await store.approvals.get('apr-missing')).toBeNull();
  });

  it('refuses an argsHash that does not match the arguments', async () => {
    const input = { ...newApproval('apr-bad', 'run-1'), argsHash: sha256Hex('{}') };
    await expect(store.approvals.create(input)).rejects.toThrow(InputError);
    expect(await store.approvals.get('apr-bad')).toBeNull();
  });

  it('decides a pending approval only once', async () => {
    await store.approvals.create(newApproval('apr-2', 'run-1', 1));
    const first = await store.approvals.decide('apr-2', {
      status: 'approved',
      by: 'alice',
      note: 'ok',
      at: at(2),
    });
    expect(first).toMatchObject({
      status: 'approved',
      decidedBy: 'alice',
      decisionNote: 'ok',
      decidedAt: at(2),
    });
    const second = await store.approvals.decide('apr-2', {
      status: 'denied',
      by: 'bob',
      note: null,
      at: at(3),
    });
    expect(second).toBeNull();
    expect(await store.approvals.get('apr-2')).toMatchObject({ status: 'approved', decidedBy: 'alice' });
  });

  it('cannot approve after a denial', async () => {
    await store.approvals.create(newApproval('apr-3', 'run-2', 2));
    expect(
      await store.approvals.decide('apr-3', { status: 'denied', by: 'bob', note: 'no', at: at(3) }),
    ).not.toBeNull();
    expect(
      await store.approvals.decide('apr-3', { status: 'approved', by: 'eve', note: null, at: at(4) }),
    ).toBeNull();
    expect(await store.approvals.get('apr-3')).toMatchObject({ status: 'denied', decidedBy: 'bob' });
  });

  it('consumes an approved receipt exactly once, even when raced', async () => {
    const results = await Promise.all([
      store.approvals.consume('apr-2', at(5)),
      store.approvals.consume('apr-2', at(5)),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.approvals.consume('apr-2', at(6))).toBe(false);
    expect(await store.approvals.get('apr-2')).toMatchObject({ consumedAt: at(5) });
  });

  it('does not consume pending, denied or unknown approvals', async () => {
    await store.approvals.create(newApproval('apr-4', 'run-2', 3));
    expect(await store.approvals.consume('apr-4', at(4))).toBe(false);
    expect(await store.approvals.consume('apr-3', at(4))).toBe(false);
    expect(await store.approvals.consume('apr-missing', at(4))).toBe(false);
    expect((await store.approvals.get('apr-4'))?.consumedAt).toBeNull();
  });

  it('lists newest first, filtered by status and run', async () => {
    const ids = async (query: Parameters<Store['approvals']['list']>[0]) =>
      (await store.approvals.list(query)).map((approval) => approval.id);
    expect(await ids({ limit: 10 })).toEqual(['apr-4', 'apr-3', 'apr-2', 'apr-1']);
    expect(await ids({ limit: 2 })).toEqual(['apr-4', 'apr-3']);
    expect(await ids({ status: 'pending', limit: 10 })).toEqual(['apr-4', 'apr-1']);
    expect(await ids({ runId: 'run-2', limit: 10 })).toEqual(['apr-4', 'apr-3']);
    expect(await ids({ runId: 'run-2', status: 'denied', limit: 10 })).toEqual(['apr-3']);
    expect(await ids({ runId: 'run-none', limit: 10 })).toEqual([]);
  });

  it('orders approvals requested in the same instant by insertion', async () => {
    await store.approvals.create(newApproval('apr-same-b', 'run-same', 20));
    await store.approvals.create(newApproval('apr-same-a', 'run-same', 20));
    expect(
      (await store.approvals.list({ runId: 'run-same', limit: 10 })).map((approval) => approval.id),
    ).toEqual(['apr-same-a', 'apr-same-b']);
  });
});

describe('approvals by more than one person', () => {
  it('needs distinct approvers, counts each once, and approves exactly when the quorum is reached', async () => {
    const args = { host: 'DC01', reason: 'contain' };
    await store.approvals.create({
      id: 'apr-quorum',
      runId: 'run-q',
      tool: 'edr.isolate_host',
      args,
      argsHash: sha256Hex(canonicalJson(args)),
      tier: 'destructive',
      reason: 'critical asset',
      requestedAt: '2025-01-01T10:00:00.000Z',
      expiresAt: '2025-01-01T12:00:00.000Z',
      requiredApprovers: 2,
    });
    const first = await store.approvals.approve('apr-quorum', {
      by: 'alice',
      note: null,
      at: '2025-01-01T10:01:00.000Z',
    });
    expect(first).toMatchObject({ status: 'pending', approvers: [{ by: 'alice' }] });
    expect(
      await store.approvals.approve('apr-quorum', {
        by: 'alice',
        note: 'again',
        at: '2025-01-01T10:02:00.000Z',
      }),
    ).toBeNull();
    expect(await store.approvals.consume('apr-quorum', '2025-01-01T10:02:30.000Z')).toBe(false);
    const racing = await Promise.all([
      store.approvals.approve('apr-quorum', { by: 'bob', note: 'ok', at: '2025-01-01T10:03:00.000Z' }),
      store.approvals.approve('apr-quorum', { by: 'carol', note: 'ok', at: '2025-01-01T10:03:00.000Z' }),
    ]);
    expect(racing.filter((result) => result?.status === 'approved')).toHaveLength(1);
    expect(racing.filter((result) => result === null)).toHaveLength(1);
    const final = await store.approvals.get('apr-quorum');
    expect(final?.approvers.map((entry) => entry.by)).toHaveLength(2);
    expect(final?.status).toBe('approved');
  });
});
