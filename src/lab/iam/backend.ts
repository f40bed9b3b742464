import type {
  IamBackend,
  IamGroup,
  IamOutcome,
  IamSession,
  IamUser,
  IamUserSummary,
  LogonRecord,
  SiemBackend,
} from '../../capability/backends/types.js';
import { StateError } from '../../errors.js';
import type { Account } from './accounts.js';
import { accountKey, mergeAccounts, resolveAccount, sameAccount } from './accounts.js';
import { mergeGroups, readInventoryGroups, telemetryGroups } from './groups.js';
import { accountState, iamStateFile } from './state.js';

export interface LabIamOptions {
  /** Where users, hosts and logons come from. */
  siem: SiemBackend;
  /** Warden home; state persists in `<home>/lab/iam.json`. */
  home: string;
  /** Inventory-style YAML with an optional `groups:` section; absent: groups come from telemetry only. */
  groupsFile?: string;
  now?: () => Date;
}

/** Accounts read from the SIEM per call; beyond this many the rarest are left out. */
const maxAccounts = 5000;
const maxHostsPerUser = 50;
/** Logons read per user to find sessions and the last logon. */
const maxLogonsPerUser = 1000;

/**
 * IAM over the accounts seen in the telemetry: users from the SIEM's `user` field, hosts and logons
 * from it too, groups from membership events and the groups file; disabling and session revocation
 * persist in `<home>/lab/iam.json` (the lab has no directory to change, so the state is Warden's own).
 */
export function createLabIam(options: LabIamOptions): IamBackend {
  const { siem } = options;
  const now = options.now ?? (() => new Date());
  const state = iamStateFile(options.home);
  const inventoryGroups = options.groupsFile ? readInventoryGroups(options.groupsFile) : [];

  async function knownAccounts(): Promise<Account[]> {
    const counted = await siem.countEvents({ field: 'user', limit: maxAccounts });
    const accounts = mergeAccounts(counted.buckets.map(({ value, count }) => ({ user: value, count })));
    for (const member of inventoryGroups.flatMap((group) => group.members)) {
      if (!accounts.some((account) => sameAccount(member, account.user))) {
        accounts.push({ user: member, count: 0, variants: [member] });
      }
    }
    return accounts;
  }

  const groupsNow = async (): Promise<IamGroup[]> =>
    mergeGroups(inventoryGroups, await telemetryGroups(siem));

  /** Hosts and logons under every spelling of the account, de-duplicated. */
  async function activity(account: Account): Promise<{ hosts: string[]; logons: LogonRecord[] }> {
    const found = await Promise.all(
      account.variants.map(async (user) => ({
        hosts: await siem.countEvents({ field: 'host', user, limit: maxHostsPerUser }),
        logons: await siem.logonHistory({ user, limit: maxLogonsPerUser }),
      })),
    );
    const hosts = new Set(found.flatMap((variant) => variant.hosts.buckets.map((bucket) => bucket.value)));
    const logons = new Map(
      found.flatMap((variant) => variant.logons.map((logon) => [logon.eventId, logon] as const)),
    );
    return { hosts: [...hosts].sort(), logons: [...logons.values()] };
  }

  async function summarise(account: Account, groups: IamGroup[]) {
    const { user } = account;
    const { hosts, logons } = await activity(account);
    const persisted = accountState(state.read(), accountKey(user), user);
    const summary: IamUserSummary = {
      user,
      eventCount: account.count,
      hosts,
      lastLogon: latest(logons.filter((logon) => logon.outcome === 'success'))?.timestamp ?? null,
      groups: groups
        .filter((group) => group.members.some((member) => sameAccount(member, user)))
        .map((group) => group.name),
      disabled: persisted.disabled,
    };
    return { summary, logons, persisted };
  }

  async function resolveKnown(query: string): Promise<Account | null> {
    const accounts = await knownAccounts();
    const user = resolveAccount(
      accounts.map((account) => account.user),
      query,
    );
    return accounts.find((account) => account.user === user) ?? null;
  }

  async function mustResolve(query: string): Promise<Account> {
    const account = await resolveKnown(query);
    if (!account) {
      throw new StateError(
        `no user "${query}" in the telemetry or the groups file; list_users shows the known accounts`,
      );
    }
    return account;
  }

  async function getUser(query: string): Promise<IamUser | null> {
    const account = await resolveKnown(query);
    if (!account) return null;
    const { summary, logons, persisted } = await summarise(account, await groupsNow());
    return {
      ...summary,
      disabledAt: persisted.disabledAt,
      disabledReason: persisted.disabledReason,
      sessionsRevokedAt: persisted.sessionsRevokedAt,
      sessions: openSessions(logons, persisted.sessionsRevokedAt),
      failedLogons: logons.filter((logon) => logon.outcome === 'failure').length,
    };
  }

  async function setDisabled(query: string, reason: string, disabled: boolean): Promise<IamOutcome> {
    const { user } = await mustResolve(query);
    const at = now().toISOString();
    return state.update((file) => {
      const key = accountKey(user);
      const account = accountState(file, key, user);
      const outcome: IamOutcome = {
        user,
        changed: account.disabled !== disabled,
        state: disabled ? 'disabled' : 'enabled',
        at,
        detail: '',
        revokedSessions: 0,
      };
      if (!outcome.changed) {
        outcome.detail = `${user} was already ${outcome.state}`;
        return outcome;
      }
      account.disabled = disabled;
      account.disabledAt = disabled ? at : null;
      account.disabledReason = disabled ? reason : null;
      account.history.push({ action: disabled ? 'disable' : 'enable', at, reason });
      file.accounts[key] = account;
      outcome.detail = `${user} ${outcome.state}: ${reason}`;
      return outcome;
    });
  }

  return {
    async listUsers({ limit }) {
      const [accounts, groups] = await Promise.all([knownAccounts(), groupsNow()]);
      const listed = await Promise.all(accounts.slice(0, limit).map((account) => summarise(account, groups)));
      return listed.map(({ summary }) => summary);
    },

    getUser,

    listGroups: groupsNow,

    disableUser: (user, reason) => setDisabled(user, reason, true),

    enableUser: (user, reason) => setDisabled(user, reason, false),

    async revokeSessions(query, reason) {
      const account = await mustResolve(query);
      const { user } = account;
      const { logons } = await activity(account);
      const at = now().toISOString();
      return state.update((file) => {
        const key = accountKey(user);
        const account = accountState(file, key, user);
        const sessions = openSessions(logons, account.sessionsRevokedAt);
        account.sessionsRevokedAt = at;
        account.history.push({ action: 'revoke_sessions', at, reason });
        file.accounts[key] = account;
        return {
          user,
          changed: sessions.length > 0,
          state: 'sessions_revoked',
          at,
          detail:
            sessions.length > 0
              ? `revoked ${sessions.length} session(s) of ${user} on ${[...new Set(sessions.map((s) => s.host))].join(', ')}: ${reason}`
              : `${user} had no session recorded since the last revocation`,
          revokedSessions: sessions.length,
        };
      });
    },
  };
}

/**
 * Sessions as the lab can know them: successful logons after the last revocation, latest per host and
 * logon type (logoff events are not matched to logons, so a session ends only by revocation).
 */
function openSessions(logons: readonly LogonRecord[], revokedAt: string | null): IamSession[] {
  const sessions = new Map<string, IamSession>();
  for (const logon of logons) {
    if (logon.outcome !== 'success') continue;
    if (revokedAt !== null && Date.parse(logon.timestamp) <= Date.parse(revokedAt)) continue;
    const key = `${logon.host.toUpperCase()}|${logon.logonType}`;
    const current = sessions.get(key);
    if (current && current.since >= logon.timestamp) continue;
    sessions.set(key, {
      host: logon.host,
      logonType: logon.logonType,
      sourceIp: logon.sourceIp,
      since: logon.timestamp,
      eventId: logon.eventId,
    });
  }
  return [...sessions.values()].sort((a, b) => b.since.localeCompare(a.since));
}

function latest(logons: readonly LogonRecord[]): LogonRecord | undefined {
  let found: LogonRecord | undefined;
  for (const logon of logons) if (!found || logon.timestamp > found.timestamp) found = logon;
  return found;
}
