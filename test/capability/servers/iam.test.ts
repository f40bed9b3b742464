import { describe, expect, it } from 'vitest';
import type {
  IamGroup,
  IamOutcome,
  IamUser,
  IamUserSummary,
} from '../../../src/capability/backends/types.js';
import { createIamServer } from '../../../src/capability/servers/index.js';
import { createLabIam, loadSampleLab } from '../../../src/lab/index.js';
import { useTempHome } from '../../lab/helpers.js';
import { writeIamLab } from '../../lab/iam/fixture.js';
import { callError, callOk, connect, expectTools } from './client.js';

const tempHome = useTempHome();

function iamServerFor(home: string) {
  const { dataDir, groupsFile } = writeIamLab(home);
  return connect(
    createIamServer(createLabIam({ siem: loadSampleLab(home, { dataDir }).siem, home, groupsFile })),
  );
}

describe('iam MCP server', () => {
  it('lists its tools; reads are read-only and the actions destructive', async () => {
    const { tools } = await iamServerFor(tempHome());
    expectTools(tools, [
      'list_users',
      'get_user',
      'list_groups',
      'disable_user',
      'enable_user',
      'revoke_sessions',
    ]);
    const destructive = Object.fromEntries(
      tools.map((tool) => [tool.name, tool.annotations?.destructiveHint]),
    );
    expect(destructive).toEqual({
      list_users: false,
      get_user: false,
      list_groups: false,
      disable_user: true,
      enable_user: true,
      revoke_sessions: true,
    });
  });

  it('lists users and groups and gets one user', async () => {
    const { client } = await iamServerFor(tempHome());
    const { users } = await callOk<{ users: IamUserSummary[] }>(client, 'list_users', { limit: 2 });
    expect(users.map((user) => user.user)).toEqual(['HARBOURLINE\\m.okafor', 'HARBOURLINE\\d.reyes']);
    const { groups } = await callOk<{ groups: IamGroup[] }>(client, 'list_groups', {});
    expect(groups.find((group) => group.name === 'Builtin\\Backup Operators')?.members).toEqual([
      'HARBOURLINE\\helpdesk2',
    ]);
    const { user } = await callOk<{ user: IamUser }>(client, 'get_user', { user: 'j.lindqvist' });
    expect(user).toMatchObject({ user: 'HARBOURLINE\\j.lindqvist', disabled: false });
    expect(user.sessions.length).toBeGreaterThan(0);
    expect(await callError(client, 'get_user', { user: 'mallory' })).toContain('no user "mallory"');
  });

  it('disables and revokes; a fresh server on the same home sees the state', async () => {
    const home = tempHome();
    const { client } = await iamServerFor(home);
    const disabled = await callOk<IamOutcome>(client, 'disable_user', {
      user: 'm.okafor',
      reason: 'C2 on FIN-WS01',
    });
    expect(disabled).toMatchObject({ user: 'HARBOURLINE\\m.okafor', changed: true, state: 'disabled' });
    const revoked = await callOk<IamOutcome>(client, 'revoke_sessions', {
      user: 'm.okafor',
      reason: 'sign out',
    });
    expect(revoked.revokedSessions).toBe(3);

    const fresh = (await iamServerFor(home)).client;
    const { user } = await callOk<{ user: IamUser }>(fresh, 'get_user', { user: 'HARBOURLINE\\m.okafor' });
    expect(user).toMatchObject({ disabled: true, disabledReason: 'C2 on FIN-WS01', sessions: [] });
    expect(await callError(fresh, 'disable_user', { user: 'ghost', reason: 'x' })).toContain(
      'no user "ghost"',
    );
    expect(await callError(fresh, 'disable_user', { user: 'm.okafor' })).toMatch(/reason/);
  });
});
