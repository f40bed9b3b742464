import { describe, expect, it } from 'vitest';
import { InputError, StateError } from '../../../src/errors.js';
import { createLabIam, loadSampleLab } from '../../../src/lab/index.js';
import { useTempHome } from '../helpers.js';
import { writeIamLab } from './fixture.js';

const tempHome = useTempHome();
const fixedNow = () => new Date('2026-11-18T12:00:00.000Z');

function iamFor(home: string) {
  const { dataDir, groupsFile } = writeIamLab(home);
  return createLabIam({ siem: loadSampleLab(home, { dataDir }).siem, home, groupsFile, now: fixedNow });
}

describe('lab IAM', () => {
  it('lists people seen in the telemetry, not machine or built-in accounts, with hosts and last logon', async () => {
    const users = await iamFor(tempHome()).listUsers({ limit: 50 });
    const names = users.map((user) => user.user);
    expect(names.slice(0, 3)).toEqual([
      'HARBOURLINE\\m.okafor',
      'HARBOURLINE\\d.reyes',
      'HARBOURLINE\\j.lindqvist',
    ]);
    expect(names).toContain('HARBOURLINE\\svc_backup');
    expect(names).toContain('HARBOURLINE\\a.nyberg');
    expect(names.some((name) => /\$$|NT AUTHORITY|^m\.okafor$/i.test(name))).toBe(false);
    const okafor = users[0];
    expect(okafor?.hosts).toEqual([
      'DC01.harbourline.local',
      'FIN-WS01.harbourline.local',
      'FS01.harbourline.local',
    ]);
    expect(okafor?.lastLogon).toBe('2026-11-18T09:14:42.790Z');
  });

  it('replays membership events and merges the groups file', async () => {
    const groups = await iamFor(tempHome()).listGroups();
    const byName = Object.fromEntries(groups.map((group) => [group.name, group]));
    expect(byName['HARBOURLINE\\Domain Admins']).toMatchObject({ members: [], sources: ['telemetry'] });
    expect(byName['Domain Admins']).toMatchObject({
      members: ['HARBOURLINE\\d.reyes'],
      sources: ['inventory'],
      description: 'Full control of the HARBOURLINE domain',
    });
    expect(byName['HARBOURLINE\\Finance Approvers']?.members).toEqual(['HARBOURLINE\\m.okafor']);
    expect(byName['Builtin\\Backup Operators']?.members).toEqual(['HARBOURLINE\\helpdesk2']);
  });

  it('gets a user by bare name with groups and sessions, and says when it is unknown', async () => {
    const iam = iamFor(tempHome());
    const user = await iam.getUser('M.Okafor');
    expect(user).toMatchObject({
      user: 'HARBOURLINE\\m.okafor',
      disabled: false,
      sessionsRevokedAt: null,
      failedLogons: 0,
    });
    expect(user?.groups.sort()).toEqual(['Finance', 'HARBOURLINE\\Finance Approvers']);
    expect(user?.sessions.map((session) => session.host)).toEqual([
      'DC01.harbourline.local',
      'FS01.harbourline.local',
      'FIN-WS01.harbourline.local',
    ]);
    expect(await iam.getUser('HARBOURLINE\\nobody')).toBeNull();
    await expect(iam.getUser(' ')).rejects.toThrow(InputError);
  });

  it('disables, revokes and enables with state persisted across backend instances', async () => {
    const home = tempHome();
    const first = iamFor(home);
    const disabled = await first.disableUser('m.okafor', 'C2 beacon from FIN-WS01');
    expect(disabled).toMatchObject({ user: 'HARBOURLINE\\m.okafor', changed: true, state: 'disabled' });
    expect(await first.disableUser('HARBOURLINE\\M.OKAFOR', 'again')).toMatchObject({ changed: false });
    const revoked = await first.revokeSessions('m.okafor', 'sign out everywhere');
    expect(revoked).toMatchObject({ changed: true, state: 'sessions_revoked', revokedSessions: 3 });

    const second = iamFor(home);
    const user = await second.getUser('m.okafor');
    expect(user).toMatchObject({
      disabled: true,
      disabledAt: '2026-11-18T12:00:00.000Z',
      disabledReason: 'C2 beacon from FIN-WS01',
      sessionsRevokedAt: '2026-11-18T12:00:00.000Z',
      sessions: [],
    });
    expect(await second.revokeSessions('m.okafor', 'twice')).toMatchObject({
      changed: false,
      revokedSessions: 0,
    });
    expect((await second.listUsers({ limit: 1 }))[0]).toMatchObject({
      user: 'HARBOURLINE\\m.okafor',
      disabled: true,
    });
    expect(await second.enableUser('m.okafor', 'credentials reset')).toMatchObject({
      changed: true,
      state: 'enabled',
    });
    expect((await iamFor(home).getUser('m.okafor'))?.disabled).toBe(false);
    expect((await iamFor(home).getUser('d.reyes'))?.disabled).toBe(false);
  });

  it('refuses to act on an account nobody has seen', async () => {
    const iam = iamFor(tempHome());
    await expect(iam.disableUser('ceo', 'prompt injection said so')).rejects.toThrow(StateError);
    await expect(iam.revokeSessions('HARBOURLINE\\ceo', 'x')).rejects.toThrow(/no user/);
  });
});
