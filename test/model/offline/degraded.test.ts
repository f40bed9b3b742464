import { describe, expect, test } from 'vitest';
import { verdictSchema } from '../../../src/agent/verdict.js';
import { createOfflineAnalyst } from '../../../src/model/offline/index.js';
import type { ToolCallBlock } from '../../../src/model/provider.js';
import { maliciousChain } from '../../fixtures/offline/scenarios.js';
import { type Answerer, actionsOf, answerFrom, firstRequest, gatewayTools, investigate } from './harness.js';

const denied =
  (tool: string, answer: Answerer): Answerer =>
  (call: ToolCallBlock) =>
    call.name === tool
      ? { isError: true, value: { error: 'policy_denied', message: `${tool} is not allowed for this run` } }
      : answer(call);

async function baseline() {
  const scenario = maliciousChain();
  const run = await investigate(
    createOfflineAnalyst(),
    firstRequest(scenario.alert),
    answerFrom(scenario.world),
  );
  return verdictSchema.parse(run.verdict);
}

describe('offline analyst with missing or failing sources', () => {
  test('a policy-denied process tree and no intel server still yield a valid, less confident verdict', async () => {
    const scenario = maliciousChain();
    const tools = gatewayTools.filter((name) => !name.startsWith('intel.'));
    const request = firstRequest(scenario.alert, { tools });
    const run = await investigate(
      createOfflineAnalyst(),
      request,
      denied('edr.process_tree', answerFrom(scenario.world)),
    );
    const verdict = verdictSchema.parse(run.verdict);
    const full = await baseline();
    expect(run.calls.some((call) => call.name.startsWith('intel.'))).toBe(false);
    expect(['malicious', 'suspicious']).toContain(verdict.verdict);
    expect(verdict.confidence).toBeLessThan(full.confidence);
    expect(verdict.summary).toContain('threat intel unavailable');
    expect(verdict.summary).toContain('policy_denied');
    // Without the EDR tree it rebuilds the descendants from SIEM process starts.
    expect(
      run.calls.some(
        (call) => call.name === 'siem.search_events' && call.input.parentProcessGuid !== undefined,
      ),
    ).toBe(true);
    expect(verdict.evidence.some((item) => item.claim.includes('whoami'))).toBe(true);
  });

  test('with no gateway tool at all it submits at once from the alert alone, with low confidence and no action', async () => {
    const scenario = maliciousChain();
    const run = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert, { tools: [], skills: [] }),
      answerFrom(scenario.world),
    );
    expect(run.responses).toHaveLength(1);
    const verdict = verdictSchema.parse(run.verdict);
    expect(verdict.verdict).not.toBe('benign');
    expect(verdict.confidence).toBeLessThanOrEqual(0.7);
    expect(verdict.recommendedActions).toEqual([]);
    for (const item of verdict.evidence) expect(item.refs).toEqual(['ref-alert']);
    expect(verdict.summary).toMatch(/Not established: .*process lineage/);
  });

  test('when every server is down it still concludes, citing the alert, and says what failed', async () => {
    const scenario = maliciousChain();
    const down: Answerer = (call) =>
      call.name === 'load_skill'
        ? answerFrom(scenario.world)(call)
        : {
            isError: true,
            value: { error: 'backend_failed', message: `${call.name.split('.')[0]} server is not running` },
          };
    const run = await investigate(createOfflineAnalyst(), firstRequest(scenario.alert), down);
    const verdict = verdictSchema.parse(run.verdict);
    const full = await baseline();
    expect(verdict.confidence).toBeLessThan(full.confidence);
    expect(verdict.summary).toContain('backend_failed');
    expect(run.calls.length).toBeLessThanOrEqual(25);
  });

  test('a tool result it cannot read counts as missing evidence, not a crash', async () => {
    const scenario = maliciousChain();
    const garbled: Answerer = (call) =>
      call.name === 'edr.process_tree'
        ? { isError: false, value: { unexpected: 'shape' } }
        : answerFrom(scenario.world)(call);
    const run = await investigate(createOfflineAnalyst(), firstRequest(scenario.alert), garbled);
    expect(verdictSchema.safeParse(run.verdict).success).toBe(true);
  });

  test('finds a long-running process over a wider window when it started hours before the alert', async () => {
    const scenario = maliciousChain();
    const event = { ...(scenario.alert.event as Record<string, unknown>) };
    delete event.ProcessGuid;
    const alert = { ...scenario.alert, time: '2024-05-14T15:40:00.000Z', event };
    const run = await investigate(createOfflineAnalyst(), firstRequest(alert), answerFrom(scenario.world));
    const searches = run.calls.filter(
      (call) =>
        call.name === 'siem.search_events' && call.input.action === 'process_start' && call.input.process,
    );
    expect(searches).toHaveLength(2);
    expect(run.calls.some((call) => call.name === 'edr.process_tree')).toBe(true);
    expect(verdictSchema.parse(run.verdict).verdict).toBe('malicious');
  });

  test('after a rejected submission it resubmits once, then stops asking', async () => {
    const scenario = maliciousChain();
    const accepted = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert),
      answerFrom(scenario.world),
      {
        reject: (_verdict, attempt) => (attempt === 1 ? 'evidence: too many items' : null),
      },
    );
    expect(accepted.rejections).toEqual(['evidence: too many items']);
    expect(accepted.calls.filter((call) => call.name === 'submit_verdict')).toHaveLength(2);
    const second = verdictSchema.parse(accepted.verdict);
    expect(second.evidence.length).toBeLessThanOrEqual(10);
    expect(actionsOf(accepted.verdict).map((action) => action.tool)).toContain('edr.isolate_host');

    const refused = await investigate(
      createOfflineAnalyst(),
      firstRequest(scenario.alert),
      answerFrom(scenario.world),
      {
        reject: () => 'never valid',
      },
    );
    expect(refused.verdict).toBeNull();
    expect(refused.rejections).toHaveLength(2);
    const last = refused.responses.at(-1);
    expect(last?.stopReason).toBe('end_turn');
    expect(last?.content.every((block) => block.type === 'text')).toBe(true);
  });
});
