import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { reviewRisk } from '../../src/control/index.js';

const tools = [
  { name: 'siem.search_events', tier: 'read', tierSource: 'bundled-default' },
  { name: 'edr.isolate_host', tier: 'destructive', tierSource: 'bundled-default' },
  { name: 'ticket.create_ticket', tier: 'reversible', tierSource: 'bundled-default' },
  { name: 'ticket.update_status', tier: 'reversible', tierSource: 'bundled-default' },
  { name: 'vendor.wipe_disk', tier: 'destructive', tierSource: 'unclassified' },
  { name: 'vendor.disable_account', tier: 'read', tierSource: 'config' },
] as const;

describe('risk review', () => {
  const config = configSchema.parse({ policy: { deny: ['ticket.update_status'] } });

  it('names the worst reachable actions with their gate, including a write misclassified as read', () => {
    const review = reviewRisk(tools, config, []);
    expect(review.worstActions.map((exposure) => [exposure.tool, exposure.gate])).toEqual([
      ['edr.isolate_host', 'human approval'],
      ['vendor.wipe_disk', 'human approval'],
      ['vendor.disable_account', 'runs'],
    ]);
    expect(review.warnings).toEqual([
      expect.stringMatching(/vendor\.disable_account is classified read \(config\)/),
    ]);
  });

  it('shows what policy and kill switches take out of reach', () => {
    const review = reviewRisk(tools, config, [
      {
        id: 'kill-1',
        scope: { type: 'server', server: 'vendor' },
        engagedBy: 'lead',
        engagedAt: '2026-11-18T10:00:00Z',
        reason: 'vendor outage',
      },
    ]);
    const gate = (tool: string) => review.reach.find((exposure) => exposure.tool === tool)?.gate;
    expect(gate('ticket.update_status')).toBe('denied by policy');
    expect(gate('vendor.wipe_disk')).toBe('stopped by kill switch');
    expect(review.worstActions.map((exposure) => exposure.tool)).toEqual(['edr.isolate_host']);
    expect(review.stoppedBy.join('\n')).toMatch(/kill-1 \(server vendor\)/);
    expect(review.untrustedInputs.join('\n')).toMatch(/results of siem\.\* tools — event fields/);
    expect(review.untrustedInputs.join('\n')).toMatch(
      /results of vendor\.\* tools — whatever that server returns/,
    );
  });
});

describe('risk review from the live Cedar policies and autonomy levels', () => {
  const config = configSchema.parse({
    policy: { deny: ['ticket.update_status'] },
    autonomy: { classes: { 'ticket.create_ticket': 'suggest' } },
  });

  it('shows each tool’s gate plain, on a critical asset and with tainted arguments', () => {
    const review = reviewRisk(tools, config, [], {
      autonomy: (tool, tier) => (tool === 'edr.isolate_host' ? 'auto' : tier === 'read' ? 'auto' : 'approve'),
    });
    const exposure = (tool: string) => review.reach.find((entry) => entry.tool === tool);
    // Promoted to auto: runs alone, but a critical asset still takes two people and taint one.
    expect(exposure('edr.isolate_host')).toMatchObject({
      gate: 'runs',
      autonomy: 'auto',
      onCritical: { gate: 'human approval', approvers: 2 },
      whenTainted: 'human approval',
    });
    expect(exposure('ticket.update_status')).toMatchObject({
      gate: 'denied by policy',
      policies: ['policy.deny[0]'],
    });
    expect(exposure('vendor.wipe_disk')?.policies).toContain('unclassified-needs-approval');
    expect(review.stoppedBy.join('\n')).toMatch(/Cedar policy set [0-9a-f]{12} .*deny by default/);
    expect(review.stoppedBy.join('\n')).toMatch(
      /ticket\.update_status is on policy\.deny \[policy\.deny\[0\]/,
    );
  });

  it('reads autonomy classes from config when no live levels are given', () => {
    const review = reviewRisk(tools, config, []);
    expect(review.reach.find((entry) => entry.tool === 'ticket.create_ticket')).toMatchObject({
      gate: 'recommendation only',
      autonomy: 'suggest',
    });
  });
});
