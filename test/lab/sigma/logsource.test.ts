import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelOf, createRuleSet, loadRules, resolveLogsource } from '../../../src/lab/sigma/index.js';
import { fixtures } from './helpers.js';

const sysmon = 'microsoft-windows-sysmon/operational';

describe('resolveLogsource', () => {
  it('maps Sysmon categories to event ids', () => {
    const cases: Array<[string, number[]]> = [
      ['network_connection', [3]],
      ['image_load', [7]],
      ['file_event', [11]],
      ['registry_set', [13]],
      ['registry_event', [12, 13, 14]],
      ['registry_delete', [12]],
      ['dns_query', [22]],
      ['process_access', [10]],
      ['create_remote_thread', [8]],
      ['pipe_created', [17, 18]],
      ['wmi_event', [19, 20, 21]],
      ['driver_load', [6]],
      ['file_delete', [23, 26]],
    ];
    for (const [category, eventIds] of cases)
      expect(resolveLogsource({ product: 'windows', category })).toEqual({
        type: 'channels',
        targets: [{ channel: sysmon, eventIds, mapping: undefined }],
      });
  });

  it('maps process_creation to Sysmon 1 and Security 4688 with the field mapping', () => {
    expect(resolveLogsource({ product: 'windows', category: 'process_creation' })).toEqual({
      type: 'channels',
      targets: [
        { channel: sysmon, eventIds: [1], mapping: undefined },
        { channel: 'security', eventIds: [4688], mapping: 'security-process-creation' },
      ],
    });
  });

  it('maps PowerShell categories to 4104 / 4103 on both PowerShell channels', () => {
    const script = resolveLogsource({ product: 'windows', category: 'ps_script' });
    expect(
      script.type === 'channels' && script.targets.map((target) => [target.channel, target.eventIds]),
    ).toEqual([
      ['microsoft-windows-powershell/operational', [4104]],
      ['powershellcore/operational', [4104]],
    ]);
    const module = resolveLogsource({ product: 'windows', category: 'ps_module' });
    expect(module.type === 'channels' && module.targets[0]?.eventIds).toEqual([4103]);
  });

  it('maps services to whole channels', () => {
    for (const [service, channel] of [
      ['security', 'security'],
      ['system', 'system'],
      ['application', 'application'],
      ['powershell-classic', 'windows powershell'],
      ['sysmon', sysmon],
      ['taskscheduler', 'microsoft-windows-taskscheduler/operational'],
      ['wmi', 'microsoft-windows-wmi-activity/operational'],
    ])
      expect(resolveLogsource({ product: 'windows', service })).toEqual({
        type: 'channels',
        targets: [{ channel, eventIds: undefined, mapping: undefined }],
      });
    expect(resolveLogsource({ product: 'windows' })).toEqual({ type: 'all-windows' });
  });

  it('maps file_access and file_rename to Kernel-File ETW (Create; Rename and RenamePath)', () => {
    const channel = 'microsoft-windows-kernel-file/analytic';
    expect(resolveLogsource({ product: 'windows', category: 'file_access' })).toEqual({
      type: 'channels',
      targets: [{ channel, eventIds: [12], mapping: undefined }],
    });
    expect(resolveLogsource({ product: 'windows', category: 'file_rename' })).toEqual({
      type: 'channels',
      targets: [{ channel, eventIds: [19, 27], mapping: undefined }],
    });
  });

  it('reports what it cannot map', () => {
    expect(resolveLogsource({ product: 'linux', category: 'process_creation' })).toMatchObject({
      type: 'unsupported',
      reason: expect.stringMatching(/product linux/),
    });
    expect(resolveLogsource({ product: 'windows', category: 'no_such_category' })).toMatchObject({
      type: 'unsupported',
      reason: expect.stringMatching(/no_such_category/),
    });
    expect(resolveLogsource({ product: 'windows', service: 'nosuchservice' })).toMatchObject({
      type: 'unsupported',
    });
    expect(resolveLogsource({ category: 'proxy' })).toMatchObject({ type: 'unsupported' });
  });
});

describe('createRuleSet', () => {
  async function fixtureRuleSet() {
    const { rules } = await loadRules([join(fixtures, 'rules')]);
    return createRuleSet(rules);
  }
  const titles = (hits: Array<{ rule: { title: string } }>) => hits.map((hit) => hit.rule.title);

  it('tests an event only against rules of its channel and event id', async () => {
    const ruleSet = await fixtureRuleSet();
    const whoami = {
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      EventID: 1,
      Image: 'C:\\Windows\\System32\\whoami.exe',
      ParentImage: 'C:\\Windows\\System32\\cmd.exe',
    };
    expect(titles(ruleSet.match(whoami))).toEqual(['Whoami Execution']);
    expect(ruleSet.candidates(whoami)).toBe(1);
    expect(ruleSet.match({ ...whoami, EventID: 11 })).toEqual([]);
    expect(ruleSet.match({ ...whoami, Channel: 'Application' })).toEqual([]);
    expect(
      ruleSet.candidates({ ...whoami, EventID: '4104', Channel: 'Microsoft-Windows-PowerShell/Operational' }),
    ).toBe(1);
  });

  it('reads Security 4688 through the process_creation field mapping', async () => {
    const ruleSet = await fixtureRuleSet();
    const event = {
      Channel: 'Security',
      EventID: '4688',
      NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
      ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
      SubjectUserName: 'alice',
      SubjectDomainName: 'CORP',
    };
    expect(titles(ruleSet.match(event))).toEqual(['Whoami Execution']);
    expect(ruleSet.match({ ...event, SubjectUserName: 'SYSTEM' })).toEqual([]);
  });

  it('keeps raw Security field names for service: security rules', async () => {
    const ruleSet = await fixtureRuleSet();
    expect(titles(ruleSet.match({ Channel: 'security', EventID: 4624, LogonType: '3' }))).toEqual([
      'Network Logon',
    ]);
    expect(ruleSet.match({ Channel: 'Security', EventID: 4624, LogonType: 2 })).toEqual([]);
  });

  it('places forwarded events by their provider', () => {
    expect(channelOf({ Channel: 'ForwardedEvents', Provider_Name: 'Microsoft-Windows-Sysmon' })).toBe(sysmon);
    expect(channelOf({ SourceName: 'Microsoft-Windows-Security-Auditing' })).toBe('security');
    expect(channelOf({ Channel: 'Security' })).toBe('security');
    expect(channelOf({})).toBe('');
  });
});
