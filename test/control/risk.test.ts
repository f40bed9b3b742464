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
