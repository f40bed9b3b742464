import { describe, expect, it } from 'vitest';
import { createPolicy, createTierRegistry } from '../../src/control/index.js';

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
    'lab-siem.search_events',
    'ticket.create_ticket',
    'vendor.lookup',
    'thirdparty.do_anything',
  ]);
  const policy = createPolicy({
    tiers,
    deny: ['vendor.*'],
    maxToolCalls: 3,
    knownTools: (tool) => known.has(tool),
  });
  const request = (tool: string, toolCallsSoFar = 0) =>
    policy.decide({ runId: 'r', tool, args: {}, toolCallsSoFar });

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
  it('denies when a check throws', () => {
    const broken = createPolicy({
      tiers: {
        tierOf: () => {
          throw new Error('registry exploded');
        },
      },
      deny: [],
      maxToolCalls: 10,
      knownTools: () => true,
    });
    expect(
      broken.decide({ runId: 'r', tool: 'siem.search_events', args: {}, toolCallsSoFar: 0 }).decision,
    ).toMatchObject({
      type: 'deny',
      reason: expect.stringMatching(/registry exploded/),
    });
  });
});
