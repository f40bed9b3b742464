import { InputError } from '../../errors.js';

/** An account as the telemetry names it, with how many events carry it. */
export interface AccountCount {
  user: string;
  count: number;
}

/** One account after merging the spellings the telemetry uses for it. */
export interface Account {
  /** The most frequent spelling, e.g. `THESHIRE\pgustavo`. */
  user: string;
  count: number;
  /** Every spelling seen (`THESHIRE\pgustavo`, `theshire.local\pgustavo`, `pgustavo`), to query the SIEM with. */
  variants: string[];
}

/** `DOMAIN\name` → `name`; `name@domain` → `name`; lower-cased. */
export function accountName(user: string): string {
  const trimmed = user.trim().toLowerCase();
  const afterDomain = trimmed.slice(trimmed.lastIndexOf('\\') + 1);
  return afterDomain.split('@')[0] ?? afterDomain;
}

/**
 * The case-insensitive identity of an account, used as the key of persisted state: the domain is
 * cut to its first label, so `THESHIRE.LOCAL\pgustavo` and `theshire\PGustavo` are one account.
 */
export function accountKey(user: string): string {
  const lower = user.trim().toLowerCase();
  const slash = lower.lastIndexOf('\\');
  if (slash === -1) return lower;
  return `${lower.slice(0, slash).split('.')[0]}\\${lower.slice(slash + 1)}`;
}

const systemDomains = new Set([
  'nt authority',
  'nt service',
  'window manager',
  'font driver host',
  'iis apppool',
]);
const systemNames = new Set(['system', 'local service', 'network service', 'anonymous logon', '-']);

/**
 * Machine accounts (`HOST$`), the built-in service identities and per-session virtual accounts
 * (`DWM-1`, `UMFD-0`): they appear in every trace but cannot be disabled like a person's account.
 */
export function isSystemAccount(user: string): boolean {
  const lower = user.trim().toLowerCase();
  const slash = lower.lastIndexOf('\\');
  const domain = slash === -1 ? '' : lower.slice(0, slash);
  const name = accountName(lower);
  return (
    name.endsWith('$') || systemNames.has(name) || systemDomains.has(domain) || /^(dwm|umfd)-\d+$/.test(name)
  );
}

/**
 * Folds counts of one account written several ways: case and FQDN-or-NetBIOS domain variants merge,
 * and a bare `name` joins the single `DOMAIN\name` with that account name (it stays separate when
 * several domains have one). System accounts are left out.
 */
export function mergeAccounts(counts: readonly AccountCount[]): Account[] {
  const byKey = new Map<string, Account & { best: number }>();
  for (const { user, count } of counts) {
    if (isSystemAccount(user)) continue;
    const key = accountKey(user);
    const existing = byKey.get(key);
    if (!existing) {
      byKey.set(key, { user: user.trim(), count, variants: [user], best: count });
      continue;
    }
    existing.count += count;
    existing.variants.push(user);
    if (count > existing.best) Object.assign(existing, { user: user.trim(), best: count });
  }
  for (const [key, account] of byKey) {
    if (key.includes('\\')) continue;
    const qualified = [...byKey.entries()].filter(
      ([other]) => other.includes('\\') && accountName(other) === accountName(key),
    );
    const [only] = qualified;
    if (qualified.length === 1 && only) {
      only[1].count += account.count;
      only[1].variants.push(...account.variants);
      byKey.delete(key);
    }
  }
  return [...byKey.values()]
    .map(({ user, count, variants }) => ({ user, count, variants }))
    .sort((a, b) => b.count - a.count || a.user.localeCompare(b.user));
}

/**
 * Finds the known account a query names: an exact `DOMAIN\name` (any case), else the unique account
 * with that account name. InputError when several domains have it; null when none does.
 */
export function resolveAccount(known: readonly string[], query: string): string | null {
  const wanted = accountKey(query);
  if (wanted === '') throw new InputError('the user name is empty');
  const exact = known.find((user) => accountKey(user) === wanted);
  if (exact) return exact;
  if (wanted.includes('\\')) return null;
  const byName = known.filter((user) => accountName(user) === accountName(wanted));
  if (byName.length > 1) {
    throw new InputError(`"${query}" matches several accounts (${byName.join(', ')}); give DOMAIN\\name`);
  }
  return byName[0] ?? null;
}

/** True when a group member entry (`DOMAIN\name`, bare `name` or `name@domain`) is this account. */
export function sameAccount(member: string, user: string): boolean {
  const memberKey = accountKey(member);
  if (memberKey.includes('\\') && accountKey(user).includes('\\')) return memberKey === accountKey(user);
  return accountName(member) === accountName(user);
}
