import { beforeAll, describe, expect, test } from 'vitest';
import { verdictSchema } from '../../../src/agent/verdict.js';
import {
  bundledSkillsDirectory,
  loadSkills,
  readSkillResource,
  type Skill,
} from '../../../src/knowledge/index.js';
import { checklistApplies } from '../../../src/model/offline/checklists.js';
import { createOfflineAnalyst } from '../../../src/model/offline/index.js';
import type { AlertFacts } from '../../../src/model/offline/types.js';
import type { ToolCallBlock } from '../../../src/model/provider.js';
import { host, processNode, type World } from '../../fixtures/offline/world.js';
import {
  type Answer,
  type Answerer,
  alertFacts,
  answerFrom,
  firstRequest,
  gatewayTools,
  investigate,
} from './harness.js';

let skills: Skill[];
const resources = new Map<string, string>();

beforeAll(async () => {
  skills = (await loadSkills([bundledSkillsDirectory])).skills;
  for (const skill of skills)
    for (const resource of skill.resources) {
      const read = await readSkillResource(skill, resource.path);
      if (read.type === 'ok') resources.set(`${skill.name}/${resource.path}`, read.text);
    }
});

const tools = [
  ...gatewayTools,
  'edr.process_access',
  'edr.image_loads',
  'edr.file_writes',
  'edr.registry_writes',
  'intel.lookup_indicator',
  'read_skill_resource',
];
const index = () => skills.map(({ name, description }) => ({ name, description }));

/** Serves load_skill and read_skill_resource from the bundled skills, extra tools from `extra`, the rest from the world. */
function answerer(world: World, extra: Record<string, (call: ToolCallBlock) => Answer> = {}): Answerer {
  const base = answerFrom(world);
  return (call) => {
    const input = call.input as Record<string, unknown>;
    if (call.name === 'load_skill') {
      const skill = skills.find((candidate) => candidate.name === input.name);
      if (!skill) return { isError: true, value: { error: 'unknown_skill' } };
      const listed = skill.resources.map(({ path, size }) => ({ path, size }));
      return { isError: false, value: { content: skill.body, resources: listed } };
    }
    if (call.name === 'read_skill_resource') {
      const content = resources.get(`${String(input.skill)}/${String(input.path)}`);
      return content === undefined
        ? { isError: true, value: { error: 'unknown_resource' } }
        : { isError: false, value: { content } };
    }
    const handler = extra[call.name];
    if (handler) return handler(call);
    if (['edr.image_loads', 'edr.file_writes', 'edr.registry_writes'].includes(call.name))
      return { isError: false, value: { imageLoads: [], fileWrites: [], registryWrites: [] } };
    return base(call);
  };
}

const wsOps = 'WS-OPS-02';
const dumper = processNode({
  guid: '{22222222-0000-0000-0000-000000000002}',
  host: wsOps,
  image: 'C:\\Tools\\perfcheck.exe',
  commandLine: '"C:\\Tools\\perfcheck.exe" --collect',
  startTime: '2024-05-14T09:12:00.000Z',
});
const lsassAlert = {
  id: 'a-lsass-1',
  title: 'LSASS process memory read',
  severity: 'high',
  time: '2024-05-14T09:12:30.000Z',
  host: wsOps,
  rule: { tags: ['attack.credential_access', 'attack.t1003.001'] },
  event: {
    EventID: 10,
    SourceImage: dumper.image,
    SourceProcessGUID: dumper.guid,
    TargetImage: 'C:\\Windows\\system32\\lsass.exe',
    GrantedAccess: '0x1010',
  },
};
const lsassWorld: World = {
  hosts: [host(wsOps, 'medium', 'operations workstation')],
  processes: [dumper],
  connections: [],
  events: [],
  intel: {},
};
const lsassAccess = (call: ToolCallBlock): Answer => ({
  isError: false,
  value: {
    accesses:
      call.input.targetImage === 'lsass.exe'
        ? [
            {
              sourceImage: 'C:\\ProgramData\\Microsoft\\Windows Defender\\MsMpEng.exe',
              grantedAccess: '0x1fffff',
            },
            { sourceImage: dumper.image, sourceProcessGuid: dumper.guid, grantedAccess: '0x1010' },
          ]
        : [],
  },
});

describe('offline analyst following runbook checklists', () => {
  test('loads the LSASS runbook, reads its checklist, asks its questions and cites each step', async () => {
    const run = await investigate(
      createOfflineAnalyst(),
      firstRequest(lsassAlert, { tools, skills: index() }),
      answerer(lsassWorld, { 'edr.process_access': lsassAccess }),
    );
    const verdict = verdictSchema.parse(run.verdict);
    const refOf = (predicate: (call: ToolCallBlock) => boolean) =>
      `ref-${run.calls.findIndex(predicate) + 1}`;
    expect(run.calls.find((call) => call.name === 'load_skill')?.input).toEqual({
      name: 'lsass-credential-dumping',
    });
    const checklistRef = refOf(
      (call) => call.name === 'read_skill_resource' && call.input.skill === 'lsass-credential-dumping',
    );
    const access = run.calls.find((call) => call.name === 'edr.process_access');
    expect(access?.input).toMatchObject({
      host: wsOps,
      targetImage: 'lsass.exe',
      from: '2024-05-14T08:42:30.000Z',
      to: '2024-05-14T09:42:30.000Z',
    });
    const accessRef = refOf((call) => call.name === 'edr.process_access');
    const handles = verdict.evidence.find((item) => item.claim.includes('step lsass-handles'));
    expect(handles?.claim).toContain('perfcheck.exe');
    expect(handles?.claim).not.toContain('MsMpEng');
    expect(handles?.refs).toEqual(expect.arrayContaining([accessRef, checklistRef]));
    expect(verdict.techniques).toContain('T1003.001');
    expect(verdict.verdict).not.toBe('benign');
    // The credential-use step needs the alert's user, which this alert does not name: not asked.
    expect(run.calls.filter((call) => call.name === 'siem.logon_history')).toHaveLength(0);
    expect(run.calls.filter((call) => call.name === 'edr.file_writes')).toHaveLength(1);
  });

  test('a finding the analyst’s own detectors missed weighs on the verdict; one they made is counted once', async () => {
    const request = firstRequest(lsassAlert, { tools, skills: index() });
    const dump = (call: ToolCallBlock): Answer => ({
      isError: false,
      value: {
        fileWrites:
          call.input.host === wsOps ? [{ path: 'C:\\Windows\\Temp\\lsass.dmp', image: dumper.image }] : [],
      },
    });
    const extra = { 'edr.process_access': lsassAccess };
    const withDump = await investigate(
      createOfflineAnalyst(),
      request,
      answerer(lsassWorld, { ...extra, 'edr.file_writes': dump }),
    );
    const without = await investigate(createOfflineAnalyst(), request, answerer(lsassWorld, extra));
    const parsed = verdictSchema.parse(withDump.verdict);
    const score = (verdict: unknown) =>
      Number(/score (-?[\d.]+)/.exec(verdictSchema.parse(verdict).summary)?.[1]);
    expect(score(withDump.verdict) - score(without.verdict)).toBe(2);
    expect(parsed.evidence.find((item) => item.claim.includes('step dump-files'))?.claim).toMatch(
      /lsass\.dmp.*\[credential-dump-file \+2\]/,
    );
    expect(parsed.evidence.find((item) => item.claim.includes('step lsass-handles'))?.claim).toContain(
      'already counted',
    );
  });

  test('fills a step argument from an earlier step: the source IP of the logons goes to threat intel', async () => {
    const logons = [
      ...Array.from({ length: 12 }, (_, index) => ({
        timestamp: `2024-05-14T09:${String(10 + index).padStart(2, '0')}:00.000Z`,
        host: 'VPN-GW01',
        user: 'CORP\\bob',
        outcome: 'failure',
        logonType: 3,
        sourceIp: '203.0.113.9',
        eventId: `evt-logon-${index}`,
      })),
      {
        timestamp: '2024-05-14T09:25:00.000Z',
        host: 'VPN-GW01',
        user: 'CORP\\bob',
        outcome: 'success',
        logonType: 3,
        sourceIp: '203.0.113.9',
        eventId: 'evt-logon-ok',
      },
    ];
    const alert = {
      id: 'a-bf-1',
      title: 'Many failed logons for one account',
      severity: 'medium',
      time: '2024-05-14T09:25:00.000Z',
      host: 'VPN-GW01',
      user: 'CORP\\bob',
      rule: { tags: ['attack.credential_access', 'attack.t1110.001'] },
      event: { EventID: 4625, TargetUserName: 'bob', IpAddress: '203.0.113.9' },
    };
    const world: World = {
      hosts: [host('VPN-GW01', 'high', 'VPN gateway')],
      processes: [],
      connections: [],
      events: [],
      intel: {
        '203.0.113.9': [{ source: 'test-feed', family: 'bruteforcer', category: 'attacker' } as never],
      },
    };
    const run = await investigate(
      createOfflineAnalyst(),
      firstRequest(alert, { tools, skills: index() }),
      answerer(world, { 'siem.logon_history': () => ({ isError: false, value: { logons } }) }),
    );
    const lookups = run.calls.filter((call) => call.name === 'intel.lookup_indicator');
    expect(lookups.map((call) => call.input)).toContainEqual({ value: '203.0.113.9', type: 'ip' });
    const verdict = verdictSchema.parse(run.verdict);
    expect(
      verdict.evidence.some(
        (item) =>
          item.claim.includes('step account-history') && item.claim.includes('failures followed by success'),
      ),
    ).toBe(true);
    expect(verdict.techniques).toEqual(expect.arrayContaining(['T1110.001', 'T1078']));
    expect(verdict.verdict).not.toBe('benign');
  });

  test('an unreadable checklist is not executed and the investigation still concludes', async () => {
    const base = answerer(lsassWorld, { 'edr.process_access': lsassAccess });
    const run = await investigate(
      createOfflineAnalyst(),
      firstRequest(lsassAlert, { tools, skills: index() }),
      (call) =>
        call.name === 'read_skill_resource' ? { isError: true, value: { error: 'changed' } } : base(call),
    );
    expect(run.calls.some((call) => call.name === 'edr.process_access')).toBe(false);
    expect(verdictSchema.safeParse(run.verdict).success).toBe(true);
  });
});

describe('checklist triggers', () => {
  const facts = (fields: Partial<AlertFacts>): AlertFacts => alertFacts(fields);
  const checklist = {
    version: 1 as const,
    triggers: { techniques: ['T1003'], processes: ['procdump.exe'], eventIds: [10], keywords: ['minidump'] },
    window: { before: '15m', after: '30m' },
    steps: [],
  };

  test.each([
    [{ techniques: ['T1003.001'] }, true],
    [{ image: 'C:\\Tools\\PROCDUMP.EXE' }, true],
    [{ eventId: 10 }, true],
    [{ commandLine: 'rundll32 comsvcs.dll, MiniDump 624 x.dmp full' }, true],
    [{ techniques: ['T1059.001'], image: 'C:\\Windows\\System32\\cmd.exe', eventId: 1 }, false],
  ])('%j → %s', (fields, expected) => {
    expect(checklistApplies(checklist, facts(fields as Partial<AlertFacts>))).toBe(expected);
  });
});
