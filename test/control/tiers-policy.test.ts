import { describe, expect, it } from 'vitest';
import { createPolicy, createTierRegistry, type KillSwitch } from '../../src/control/index.js';

const tiers = createTierRegistry({
  overrides: { 'vendor.*': 'read', 'vendor.wipe': 'destructive', 'edr.kill_process': 'reversible' },
  bundledKinds: new Map([
    ['edr', 'edr'],
    ['lab-siem', 'siem'],
  ]),
});

describe('tier registry', () => {
  it('uses bundled defaults by kind, even under another server name', () => {
    expect(tiers.tierOf('edr.isolate_host')).toEqual({ tier: 'destructive', source: 'bundled-default' });
    expect(tiers.tierOf('lab-siem.search_events')).toEqual({ tier: 'read', source: 'bundled-default' });
  });
  it('lets exact config overrides win over wildcards and defaults', () => {
    expect(tiers.tierOf('vendor.lookup')).toEqual({ tier: 'read', source: 'config' });
    expect(tiers.tierOf('vendor.wipe')).toEqual({ tier: 'destructive', source: 'config' });
    expect(tiers.tierOf('edr.kill_process')).toEqual({ tier: 'reversible', source: 'config' });
  });
  it('classifies unknown tools of external servers as destructive', () => {
    expect(tiers.tierOf('thirdparty.do_anything')).toEqual({ tier: 'destructive', source: 'unclassified' });
    expect(tiers.tierOf('edr.new_tool_not_in_registry')).toEqual({
      tier: 'destructive',
      source: 'unclassified',
    });
  });
});

describe('policy', () => {
  const known = new Set([
    'edr.isolate_host',
    'edr.process_tree',
    'edr.kill_process',
    'lab-siem.search_events',
    'ticket.create_ticket',
    'vendor.lookup',
    'thirdparty.do_anything',
  ]);
  let switches: KillSwitch[] = [];
  const policy = createPolicy({
    tiers,
    deny: ['vendor.*'],
    maxToolCalls: 3,
    maxActions: { reversible: 2, destructive: 1 },
    knownTools: (tool) => known.has(tool),
    killSwitches: () => switches,
  });
  const request = (tool: string, toolCallsSoFar = 0, actionsSoFar = { reversible: 0, destructive: 0 }) =>
    policy.decide({ runId: 'r', tool, args: {}, toolCallsSoFar, actionsSoFar });
  const engage = (scope: KillSwitch['scope']): KillSwitch => ({
    id: 'kill-1',
    scope,
    engagedBy: 'soc-lead',
    engagedAt: '2026-11-18T10:00:00Z',
    reason: 'incident',
  });

  it('allows reads', () => expect(request('lab-siem.search_events').decision.type).toBe('allow'));
  it('requires approval for destructive and unclassified tools', () => {
    expect(request('edr.isolate_host').decision.type).toBe('require_approval');
    expect(request('thirdparty.do_anything').decision.type).toBe('require_approval');
  });
  it('denies tools on the deny list, unknown tools, and calls past the budget', () => {
    expect(request('vendor.lookup').decision).toMatchObject({
      type: 'deny',
      reason: expect.stringMatching(/policy\.deny/),
    });
    expect(request('edr.nope').decision).toMatchObject({
      type: 'deny',
      reason: expect.stringMatching(/unknown tool/),
    });
    expect(request('lab-siem.search_events', 3).decision).toMatchObject({
      type: 'deny',
      reason: expect.stringMatching(/maxToolCalls/),
    });
  });
  it('caps writes per tier', () => {
    expect(request('edr.isolate_host', 0, { reversible: 0, destructive: 1 })).toMatchObject({
      check: 'budget',
      decision: { type: 'deny', reason: expect.stringMatching(/limits\.maxActions\.destructive \(1\)/) },
    });
    expect(request('edr.kill_process', 0, { reversible: 2, destructive: 0 }).decision.type).toBe('deny');
    expect(request('edr.kill_process', 0, { reversible: 1, destructive: 5 }).decision.type).toBe('allow');
    expect(request('lab-siem.search_events', 0, { reversible: 9, destructive: 9 }).decision.type).toBe(
      'allow',
    );
  });
  it.each([
    [{ type: 'all' } as const, ['lab-siem.search_events', 'edr.isolate_host'], []],
    [
      { type: 'tier', tier: 'destructive' } as const,
      ['edr.isolate_host', 'thirdparty.do_anything'],
      ['edr.process_tree'],
    ],
    [
      { type: 'server', server: 'edr' } as const,
      ['edr.isolate_host', 'edr.process_tree'],
      ['lab-siem.search_events'],
    ],
    [{ type: 'tool', tool: 'edr.isolate_host' } as const, ['edr.isolate_host'], ['edr.process_tree']],
    [{ type: 'run', runId: 'r' } as const, ['lab-siem.search_events'], []],
    [{ type: 'run', runId: 'another-run' } as const, [], ['lab-siem.search_events']],
  ])('a kill switch on %j stops exactly what it names', (scope, stopped, untouched) => {
    switches = [engage(scope)];
    try {
      for (const tool of stopped) {
        expect(request(tool)).toMatchObject({
          check: 'kill-switch',
          decision: {
            type: 'deny',
            reason: expect.stringMatching(/kill switch kill-1 .* engaged by soc-lead: incident/),
          },
        });
      }
      for (const tool of untouched) expect(request(tool).check).not.toBe('kill-switch');
    } finally {
      switches = [];
    }
  });
  it('denies when a check throws, including an unreadable kill switch', () => {
    const broken = createPolicy({
      tiers: {
        tierOf: () => {
          throw new Error('registry exploded');
        },
      },
      deny: [],
      maxToolCalls: 10,
      maxActions: { reversible: 10, destructive: 10 },
      knownTools: () => true,
      killSwitches: () => [],
    });
    const decide = (target: typeof broken) =>
      target.decide({
        runId: 'r',
        tool: 'siem.search_events',
        args: {},
        toolCallsSoFar: 0,
        actionsSoFar: { reversible: 0, destructive: 0 },
      });
    expect(decide(broken).decision).toMatchObject({
      type: 'deny',
      reason: expect.stringMatching(/registry exploded/),
    });
    const unreadable = createPolicy({
      tiers,
      deny: [],
      maxToolCalls: 10,
      maxActions: { reversible: 10, destructive: 10 },
      knownTools: () => true,
      killSwitches: () => {
        throw new Error('kill-switch.json is not valid JSON');
      },
    });
    expect(decide(unreadable).decision).toMatchObject({
      type: 'deny',
      reason: expect.stringMatching(/kill-switch\.json/),
    });
  });
});
