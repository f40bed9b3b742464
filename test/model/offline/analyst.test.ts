import { describe, expect, test } from 'vitest';
import { verdictSchema } from '../../../src/agent/verdict.js';
import { createOfflineAnalyst } from '../../../src/model/offline/index.js';
import type { ModelRequest } from '../../../src/model/provider.js';
import { benignAdmin, maliciousChain, mixedDownload } from '../../fixtures/offline/scenarios.js';
import { actionsOf, answerFrom, firstRequest, gatewayTools, investigate } from './harness.js';

async function run(scenario: ReturnType<typeof maliciousChain>) {
  const request = firstRequest(scenario.alert);
  const result = await investigate(createOfflineAnalyst(), request, answerFrom(scenario.world));
  expect(result.verdict, 'the analyst submitted an accepted verdict').not.toBeNull();
  return result;
}

function citedRefs(verdict: Record<string, unknown> | null): string[] {
  return ((verdict?.evidence ?? []) as Array<{ refs: string[] }>).flatMap((item) => item.refs);
}

describe('offline analyst on a malicious LOLBin → encoded PowerShell download chain', () => {
  test('concludes malicious with high, calibrated confidence and the chain techniques', async () => {
    const { verdict } = await run(maliciousChain());
    const parsed = verdictSchema.parse(verdict);
    expect(parsed.verdict).toBe('malicious');
    expect(parsed.confidence).toBeGreaterThanOrEqual(0.85);
    expect(parsed.confidence).toBeLessThan(1);
    expect(parsed.techniques).toEqual(
      expect.arrayContaining([
        'T1218.005',
        'T1059.001',
        'T1027',
        'T1105',
        'T1071.001',
        'T1547.001',
        'T1033',
        'T1482',
      ]),
    );
  });

  test('cites only refs of the transcript, including the intel hit and the process tree', async () => {
    const result = await run(maliciousChain());
    const cited = citedRefs(result.verdict);
    expect(cited.length).toBeGreaterThan(0);
    for (const ref of cited) expect(result.knownRefs.has(ref)).toBe(true);
    const refOf = (predicate: (name: string, input: Record<string, unknown>) => boolean) => {
      const index = result.calls.findIndex((call) => predicate(call.name, call.input));
      return `ref-${index + 1}`;
    };
    const intelRef = refOf(
      (name, input) => name === 'intel.lookup_indicator' && input.value === '198.51.100.23',
    );
    const treeRef = refOf((name) => name === 'edr.process_tree');
    const evidence = (result.verdict?.evidence ?? []) as Array<{ claim: string; refs: string[] }>;
    expect(
      evidence.find((item) => item.claim.includes('198.51.100.23') && item.claim.includes('intel'))?.refs,
    ).toContain(intelRef);
    expect(evidence.find((item) => item.claim.includes('mshta.exe → powershell.exe'))?.refs).toContain(
      treeRef,
    );
  });

  test('recommends isolation of the alerted host, killing the PowerShell payload and a ticket', async () => {
    const scenario = maliciousChain();
    const { verdict } = await run(scenario);
    const actions = actionsOf(verdict);
    expect(actions.map((action) => action.tool)).toEqual([
      'edr.isolate_host',
      'edr.kill_process',
      'ticket.create_ticket',
    ]);
    expect(actions[0]?.args).toMatchObject({ host: 'WS-FIN-07' });
    const event = (scenario.alert.event ?? {}) as Record<string, unknown>;
    expect(actions[1]?.args).toMatchObject({ host: 'WS-FIN-07', processGuid: event.ProcessGuid });
    const ticket = actions[2]?.args ?? {};
    expect(ticket).toMatchObject({ severity: 'critical', alertId: 'a-mal-0001' });
    expect(String(ticket.body)).toContain('malicious');
    // The ticket quotes command lines briefly and never carries the encoded payload itself.
    const encoded = /-enc (\S+)/.exec(String(event.CommandLine))?.[1] ?? 'missing';
    expect(String(ticket.body)).not.toContain(encoded.slice(0, 24));
    expect(String(ticket.body)).toContain('-enc <base64>');
    expect(String(ticket.body).length).toBeLessThanOrEqual(3500);
  });

  test('loads the one relevant runbook in the first turn and names it in the summary', async () => {
    const result = await run(maliciousChain());
    const firstTurnSkills = result.responses[0]?.content.filter(
      (block) => block.type === 'tool_call' && block.name === 'load_skill',
    );
    expect(firstTurnSkills?.map((block) => (block.type === 'tool_call' ? block.input.name : null))).toEqual([
      'suspicious-powershell-lolbins',
    ]);
    expect(String(result.verdict?.summary)).toContain('suspicious-powershell-lolbins');
  });

  test('reads the skill index as a map of name to description, or as the list older runs hold', async () => {
    const scenario = maliciousChain();
    const request = firstRequest(scenario.alert);
    const asList = structuredClone(request);
    for (const block of asList.messages[0]?.content ?? [])
      if (block.type === 'data' && block.label === 'skills')
        block.value = Object.entries(block.value as Record<string, string>).map(([name, description]) => ({
          name,
          description,
        }));
    const loads = async (first: ModelRequest) =>
      (await createOfflineAnalyst().generate(first)).content.flatMap((block) =>
        block.type === 'tool_call' && block.name === 'load_skill' ? [block.input.name] : [],
      );
    expect(await loads(request)).toEqual(['suspicious-powershell-lolbins']);
    expect(await loads(asList)).toEqual(['suspicious-powershell-lolbins']);
  });

  test('asks independent questions together and calls only listed tools', async () => {
    const result = await run(maliciousChain());
    const firstTurnCalls = result.responses[0]?.content.filter((block) => block.type === 'tool_call') ?? [];
    expect(firstTurnCalls.length).toBeGreaterThan(3);
    const listed = new Set([...gatewayTools, 'submit_verdict', 'load_skill']);
    for (const call of result.calls) expect(listed.has(call.name)).toBe(true);
    expect(
      result.calls.some((call) => call.name === 'edr.isolate_host' || call.name === 'edr.kill_process'),
    ).toBe(false);
  });
});

describe('offline analyst on benign and ambiguous activity', () => {
  test('an administrator restarting a service from Explorer is benign, with no action', async () => {
    const { verdict } = await run(benignAdmin());
    const parsed = verdictSchema.parse(verdict);
    expect(parsed.verdict).toBe('benign');
    expect(parsed.confidence).toBeGreaterThanOrEqual(0.7);
    expect(parsed.recommendedActions).toEqual([]);
    expect(parsed.techniques).toEqual([]);
    expect(parsed.evidence.some((item) => item.claim.includes('interactive-administration'))).toBe(true);
    expect(parsed.summary).toMatch(/No response is recommended/);
  });

  test('a hidden PowerShell download without reputation hit is suspicious and escalated by ticket', async () => {
    const { verdict } = await run(mixedDownload());
    const parsed = verdictSchema.parse(verdict);
    expect(parsed.verdict).toBe('suspicious');
    expect(parsed.confidence).toBeGreaterThan(0.3);
    expect(parsed.confidence).toBeLessThan(0.7);
    expect(parsed.recommendedActions.map((action) => action.tool)).toEqual(['ticket.create_ticket']);
    expect(parsed.recommendedActions[0]?.args).toMatchObject({ severity: 'medium', alertId: 'a-mix-0001' });
    expect(String(parsed.recommendedActions[0]?.args.body)).toContain('human analyst');
    expect(parsed.techniques).toEqual(expect.arrayContaining(['T1105']));
  });

  test('finds the process through the SIEM when the alert has ECS fields and no process guid', async () => {
    const scenario = benignAdmin();
    const event = scenario.alert.event as Record<string, unknown>;
    const alert = {
      ...scenario.alert,
      event: {
        process: {
          executable: event.Image,
          command_line: event.CommandLine,
          parent: { executable: event.ParentImage },
        },
      },
    };
    const result = await investigate(createOfflineAnalyst(), firstRequest(alert), answerFrom(scenario.world));
    const search = result.calls.find(
      (call) => call.name === 'siem.search_events' && call.input.action === 'process_start',
    );
    expect(search?.input).toMatchObject({ host: 'ADM-JUMP-01', process: 'powershell.exe' });
    expect(result.calls.some((call) => call.name === 'edr.process_tree')).toBe(true);
    expect(verdictSchema.parse(result.verdict).verdict).toBe('benign');
  });
});
