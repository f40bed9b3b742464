import { describe, expect, test } from 'vitest';
import { verdictSchema } from '../../../src/agent/verdict.js';
import type { ProcessTree } from '../../../src/capability/backends/types.js';
import { createOfflineAnalyst } from '../../../src/model/offline/index.js';
import { chooseSkills } from '../../../src/model/offline/skills.js';
import type { AlertFacts } from '../../../src/model/offline/types.js';
import { maliciousChain } from '../../fixtures/offline/scenarios.js';
import { type Answerer, alertFacts, answerFrom, firstRequest, investigate } from './harness.js';

describe('offline analyst walking the lineage', () => {
  test('an alert on a discovery child is judged by the encoded PowerShell that started it', async () => {
    const scenario = maliciousChain();
    const whoami = scenario.world.processes.find((node) => node.image.endsWith('whoami.exe'));
    const alert = {
      ...scenario.alert,
      title: 'Whoami execution',
      severity: 'low',
      rule: { tags: ['attack.discovery', 'attack.t1033'] },
      event: {
        EventID: 1,
        Image: whoami?.image,
        CommandLine: whoami?.commandLine,
        ProcessGuid: whoami?.guid,
      },
    };
    const run = await investigate(createOfflineAnalyst(), firstRequest(alert), answerFrom(scenario.world));
    const verdict = verdictSchema.parse(run.verdict);
    expect(verdict.verdict).toBe('malicious');
    expect(verdict.techniques).toEqual(expect.arrayContaining(['T1033', 'T1027', 'T1059.001']));
    const kill = verdict.recommendedActions.find((action) => action.tool === 'edr.kill_process');
    expect(kill?.args.processGuid).toBe('{11111111-0000-0000-0000-000000000004}');
  });

  test('asks the SIEM for the parent the EDR tree does not reach', async () => {
    const scenario = maliciousChain();
    const full = answerFrom(scenario.world);
    // The EDR saw only PowerShell and its parent: the start of mshta predates its retention.
    const truncated: Answerer = (call) => {
      const answer = full(call);
      if (call.name !== 'edr.process_tree' || answer.isError) return answer;
      const tree = answer.value as ProcessTree;
      return { isError: false, value: { ...tree, ancestors: tree.ancestors.slice(0, 1) } };
    };
    const run = await investigate(createOfflineAnalyst(), firstRequest(scenario.alert), truncated);
    const lookup = run.calls.find(
      (call) =>
        call.name === 'siem.search_events' &&
        call.input.processGuid === '{11111111-0000-0000-0000-000000000003}' &&
        call.input.action === 'process_start',
    );
    expect(lookup).toBeDefined();
    const verdict = verdictSchema.parse(run.verdict);
    expect(verdict.evidence.some((item) => item.claim.includes('winword.exe → mshta.exe'))).toBe(true);
  });
});

describe('runbook choice', () => {
  const alert = (fields: Partial<AlertFacts>): AlertFacts => alertFacts(fields);
  const index = [
    { name: 'lolbins', description: 'mshta, rundll32 and PowerShell triage' },
    { name: 'credential-dumping', description: 'LSASS access and T1003 credential theft' },
    { name: 'environment', description: 'Asset criticality and who signs off containment' },
    { name: 'phishing', description: 'Mail headers and sender reputation' },
  ];

  test('loads at most two runbooks, the best match first, never an unrelated one', () => {
    const chosen = chooseSkills(
      index,
      alert({
        image: 'C:\\Windows\\System32\\mshta.exe',
        parentImage: 'C:\\x\\powershell.exe',
        techniques: ['T1003.001'],
      }),
    );
    expect(chosen.map((skill) => skill.name)).toEqual(['lolbins', 'credential-dumping']);
  });

  test('title words weigh little: one matching word is not enough, several are; no runbook fills a slot', () => {
    const chosen = chooseSkills(index, alert({ title: 'Suspicious mail headers reputation' }));
    expect(chosen.map((skill) => skill.name)).toEqual(['phishing']);
    expect(chooseSkills(index, alert({ title: 'headers' }))).toEqual([]);
  });

  test('a process several runbooks name is weak evidence; a technique or a process only one names is strong', () => {
    const withRemoting = [
      ...index,
      { name: 'lateral-movement', description: 'WinRM/PowerShell remoting (wsmprovhost) and T1021.006' },
      { name: 'persistence', description: 'Run keys (T1547.001)' },
    ];
    const names = (fields: Partial<AlertFacts>) =>
      chooseSkills(withRemoting, alert(fields)).map((skill) => skill.name);
    const powershell = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
    // A Run key written by PowerShell: the persistence runbook, not every runbook naming PowerShell.
    expect(names({ image: powershell, techniques: ['T1547.001'] })).toEqual(['persistence']);
    // PowerShell remoting: the technique makes lateral movement relevant, beside the PowerShell runbook's match.
    expect(names({ image: powershell, parentImage: 'C:\\x\\mshta.exe', techniques: ['T1021.006'] })).toEqual([
      'lateral-movement',
      'lolbins',
    ]);
    // Only weak evidence anywhere: the best match alone.
    expect(names({ image: powershell, title: 'PowerShell triage' })).toEqual(['lolbins']);
  });
});
