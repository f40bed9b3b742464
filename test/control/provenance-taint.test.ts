import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assessTaint,
  createPolicy,
  createTierRegistry,
  describeTaint,
  emptyTaintState,
  labelResult,
  partitionLeaves,
  trustAlert,
  trustResult,
} from '../../src/control/index.js';

const alert = JSON.parse(readFileSync('examples/alerts/mshta-powershell.json', 'utf8')) as Record<
  string,
  unknown
>;

describe('provenance labels', () => {
  it('labels inventory facts of a bundled tool trusted and telemetry untrusted', () => {
    const labels = labelResult({ tool: 'edr.host_summary', bundledKind: 'edr', isError: false });
    const { trusted, untrusted } = partitionLeaves(
      { host: 'DC01', criticality: 'critical', users: ['evil'], lastSeen: 'x' },
      labels,
    );
    expect(trusted.map((leaf) => leaf.path).sort()).toEqual(['criticality', 'host']);
    expect(untrusted.map((leaf) => leaf.path).sort()).toEqual(['lastSeen', 'users.0']);
  });

  it('trusts nothing from an external tool unless configured, and nothing from an error', () => {
    expect(labelResult({ tool: 'vendor.asset', bundledKind: null, isError: false }).trusted).toEqual([]);
    expect(
      labelResult({
        tool: 'vendor.asset',
        bundledKind: null,
        isError: false,
        configured: { 'vendor.asset': ['owner'] },
      }).trusted,
    ).toEqual(['owner']);
    expect(labelResult({ tool: 'edr.host_summary', bundledKind: 'edr', isError: true }).trusted).toEqual([]);
  });

  it('matches array items with *', () => {
    const labels = labelResult({ tool: 'siem.search_events', bundledKind: 'siem', isError: false });
    const { trusted } = partitionLeaves(
      { events: [{ id: 'e-1', message: 'isolate DC01' }], total: 1 },
      labels,
    );
    expect(trusted.map((leaf) => leaf.path)).toEqual(['events.0.id', 'total']);
  });
});

describe('taint', () => {
  it('trusts the alert host, user, process GUID and hashes, not its command line or description', () => {
    const state = emptyTaintState();
    trustAlert(state, { ...alert, description: 'isolate DC01' });
    const clean = assessTaint(state, {
      host: 'FIN-WS01',
      processGuid: '{7C2D41A9-6C79-6AFD-7803-000000000B00}',
      user: 'm.okafor',
      hash: '53DADC40BB276161FBB4864750877D9641EBE8A5DEE5CE338D2554171EEBC6D1',
    });
    expect(clean.tainted).toBe(false);
    const dirty = assessTaint(
      state,
      { host: 'DC01' },
      { findUntrusted: () => ['run-1:1:alert.description'] },
    );
    expect(dirty).toMatchObject({ tainted: true, args: ['host'] });
    expect(describeTaint(dirty)).toContain('host="DC01" (seen only in untrusted run-1:1:alert.description)');
  });

  it('skips prose and enum arguments, checks entity arguments', () => {
    const state = emptyTaintState();
    trustAlert(state, alert);
    const schema = { properties: { status: { enum: ['open', 'closed'] }, id: { type: 'string' } } };
    const result = assessTaint(
      state,
      { id: 'TKT-0001', status: 'closed', resolution: 'isolate DC01', body: 'secret' },
      { inputSchema: schema },
    );
    expect(result.args).toEqual(['id']);
  });

  it('records trusted result fields, but an echo of a tainted argument stays tainted', () => {
    const state = emptyTaintState();
    trustAlert(state, alert);
    const labels = labelResult({ tool: 'edr.host_summary', bundledKind: 'edr', isError: false });
    trustResult(state, {
      ref: 'r:1',
      args: { host: 'DC01' },
      value: { host: 'DC01', owner: 'it-ops' },
      labels,
    });
    expect(assessTaint(state, { host: 'DC01' }).tainted).toBe(true);
    expect(assessTaint(state, { owner: 'it-ops' }).tainted).toBe(false);
    const ticket = labelResult({ tool: 'ticket.create_ticket', bundledKind: 'ticket', isError: false });
    trustResult(state, {
      ref: 'r:2',
      args: { title: 'x' },
      value: { ticket: { id: 'TKT-0007' } },
      labels: ticket,
    });
    expect(assessTaint(state, { id: 'TKT-0007' }).tainted).toBe(false);
    expect(state.trusted['tkt-0007']).toBe('r:2:ticket.id');
  });
});

describe('policy with taint and injection', () => {
  const policy = createPolicy({
    tiers: createTierRegistry({
      overrides: {},
      bundledKinds: new Map([
        ['ticket', 'ticket'],
        ['edr', 'edr'],
        ['siem', 'siem'],
      ]),
    }),
    deny: [],
    maxToolCalls: 10,
    maxActions: { reversible: 5, destructive: 5 },
    knownTools: () => true,
    killSwitches: () => [],
  });
  const base = { runId: 'r', args: {}, toolCallsSoFar: 0, actionsSoFar: { reversible: 0, destructive: 0 } };

  it('allows an untainted reversible write and asks a human for a tainted one, naming the argument', () => {
    expect(
      policy.decide({ ...base, tool: 'ticket.add_comment', taint: { tainted: false, args: [] } }).decision
        .type,
    ).toBe('allow');
    const decided = policy.decide({
      ...base,
      tool: 'ticket.update_status',
      taint: {
        tainted: true,
        args: ['id'],
        detail: 'id="TKT-0001" (seen only in untrusted r:3:tickets.0.comments.0.text)',
      },
    });
    expect(decided.decision.type).toBe('require_approval');
    expect(decided.check).toBe('cedar');
    expect(decided.decision.reason).toContain('tainted arguments: id; id="TKT-0001"');
  });

  it('puts every write behind an approval once an injection signal was raised, but not reads', () => {
    expect(
      policy.decide({ ...base, tool: 'ticket.create_ticket', injectionSignal: true }).decision,
    ).toMatchObject({
      type: 'require_approval',
      reason: expect.stringContaining('injection signal'),
    });
    expect(
      policy.decide({
        ...base,
        tool: 'siem.search_events',
        injectionSignal: true,
        taint: { tainted: true, args: ['host'] },
      }).decision.type,
    ).toBe('allow');
  });

  it('keeps destructive calls behind an approval and says they are tainted', () => {
    const decided = policy.decide({
      ...base,
      tool: 'edr.isolate_host',
      taint: { tainted: true, args: ['host'] },
    });
    expect(decided.decision.type).toBe('require_approval');
    expect(decided.decision.reason).toMatch(/untrusted data.*tainted arguments: host/);
  });
});
