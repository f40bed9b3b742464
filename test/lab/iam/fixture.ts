import { appendFileSync, cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleLabDir } from '../../../src/lab/index.js';

const security = {
  Hostname: 'DC01.harbourline.local',
  Channel: 'Security',
  SourceName: 'Microsoft-Windows-Security-Auditing',
  SubjectUserName: 'd.reyes',
  SubjectDomainName: 'HARBOURLINE',
};

/** Membership changes on DC01: m.okafor added to and removed from Domain Admins, svc_backup kept in Backup Operators. */
const membershipEvents = [
  {
    EventID: 4720,
    TargetUserName: 'helpdesk2',
    TargetDomainName: 'HARBOURLINE',
    TargetSid: 'S-1-5-21-1-2-3-1201',
  },
  {
    EventID: 4728,
    TargetUserName: 'Domain Admins',
    TargetDomainName: 'HARBOURLINE',
    MemberName: 'CN=m.okafor,CN=Users,DC=harbourline,DC=local',
    MemberSid: 'S-1-5-21-1-2-3-1105',
  },
  {
    EventID: 4732,
    TargetUserName: 'Backup Operators',
    TargetDomainName: 'Builtin',
    MemberName: '-',
    MemberSid: 'S-1-5-21-1-2-3-1201',
  },
  {
    EventID: 4729,
    TargetUserName: 'Domain Admins',
    TargetDomainName: 'HARBOURLINE',
    MemberName: 'CN=m.okafor,CN=Users,DC=harbourline,DC=local',
    MemberSid: 'S-1-5-21-1-2-3-1105',
  },
  {
    EventID: 4756,
    TargetUserName: 'Finance Approvers',
    TargetDomainName: 'HARBOURLINE',
    MemberName: 'CN=m.okafor,OU=Finance,DC=harbourline,DC=local',
    MemberSid: 'S-1-5-21-1-2-3-1105',
  },
].map((event, index) => {
  const at = `2026-11-18T10:5${index}:00.000Z`;
  return { '@timestamp': at, TimeCreated: at, ...security, ...event };
});

/**
 * A copy of the sample lab in `dir` whose telemetry also holds group-membership events, plus a
 * `groups.yaml` in the inventory style. Returns the paths.
 */
export function writeIamLab(dir: string): { dataDir: string; groupsFile: string } {
  const dataDir = join(dir, 'lab-data');
  cpSync(sampleLabDir, dataDir, { recursive: true });
  appendFileSync(
    join(dataDir, 'sample-incident.jsonl'),
    `${membershipEvents.map((event) => JSON.stringify(event)).join('\n')}\n`,
  );
  const groupsFile = join(dataDir, 'groups.yaml');
  writeFileSync(
    groupsFile,
    [
      'hosts: {}',
      'groups:',
      '  Domain Admins:',
      '    description: Full control of the HARBOURLINE domain',
      '    members: [HARBOURLINE\\d.reyes]',
      '  Finance:',
      '    members: [m.okafor, "HARBOURLINE\\\\a.nyberg"]',
      '',
    ].join('\n'),
  );
  return { dataDir, groupsFile };
}
