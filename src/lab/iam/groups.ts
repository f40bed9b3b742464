import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { IamGroup, LabEvent, SiemBackend } from '../../capability/backends/types.js';
import { InputError } from '../../errors.js';
import { accountKey } from './accounts.js';

const groupsFileSchema = z.looseObject({
  groups: z
    .record(
      z.string(),
      z.object({
        description: z.string().nullish(),
        members: z.array(z.string()).default([]),
      }),
    )
    .optional(),
});

/**
 * Reads the optional `groups:` section of an inventory-style YAML file:
 * `groups: { "Domain Admins": { description: …, members: [HARBOURLINE\d.reyes, …] } }`.
 * Other sections (e.g. `hosts:`) are ignored.
 */
export function readInventoryGroups(path: string): IamGroup[] {
  let document: unknown;
  try {
    document = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputError(`${path}: not readable YAML (${(error as Error).message})`, { cause: error });
  }
  const parsed = groupsFileSchema.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${path}: ${issue?.path.join('.') ?? 'groups'}: ${issue?.message ?? 'invalid groups'}`,
    );
  }
  return Object.entries(parsed.data.groups ?? {}).map(([name, group]) => ({
    name,
    members: group.members,
    sources: ['inventory'],
    description: group.description ?? null,
  }));
}

/** Security events that add (4728 global, 4732 local, 4756 universal) or remove a group member. */
const addCodes = [4728, 4732, 4756];
const removeCodes = [4729, 4733, 4757];
/** Membership events read per event code; enough for a lab, bounded for a large store. */
const maxEventsPerCode = 5000;

/** Replays group-membership events in time order into each group's current members. */
export async function telemetryGroups(siem: SiemBackend): Promise<IamGroup[]> {
  const events: LabEvent[] = [];
  for (const eventCode of [...addCodes, ...removeCodes]) {
    const page = await siem.searchEvents({ eventCode, limit: maxEventsPerCode, offset: 0 });
    events.push(...page.events.filter((event) => event.channel.toLowerCase() === 'security'));
  }
  events.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  const namesBySid = await createdAccounts(siem);
  const groups = new Map<string, { name: string; members: Map<string, string> }>();
  for (const event of events) {
    const name = groupName(event.raw);
    const member = memberName(event.raw, namesBySid);
    if (!name || !member) continue;
    let group = groups.get(accountKey(name));
    if (!group) {
      group = { name, members: new Map() };
      groups.set(accountKey(name), group);
    }
    if (addCodes.includes(event.eventCode)) group.members.set(accountKey(member), member);
    else group.members.delete(accountKey(member));
  }
  return [...groups.values()].map((group) => ({
    name: group.name,
    members: [...group.members.values()].sort(),
    sources: ['telemetry'],
    description: null,
  }));
}

/** Merges groups of the same name (case-insensitive) from several sources. */
export function mergeGroups(...lists: IamGroup[][]): IamGroup[] {
  const merged = new Map<string, IamGroup>();
  for (const group of lists.flat()) {
    const existing = merged.get(accountKey(group.name));
    if (!existing) {
      merged.set(accountKey(group.name), {
        ...group,
        members: [...group.members],
        sources: [...group.sources],
      });
      continue;
    }
    for (const member of group.members) {
      if (!existing.members.some((known) => accountKey(known) === accountKey(member)))
        existing.members.push(member);
    }
    for (const source of group.sources) if (!existing.sources.includes(source)) existing.sources.push(source);
    existing.description ??= group.description;
  }
  return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' || trimmed === '-' ? null : trimmed;
}

/** `TargetDomainName\TargetUserName` of the event: the group changed (or, for 4720, the account created). */
function groupName(raw: Record<string, unknown>): string | null {
  const name = text(raw.TargetUserName) ?? text(raw.GroupName);
  if (!name) return null;
  const domain = text(raw.TargetDomainName);
  return domain ? `${domain}\\${name}` : name;
}

/**
 * The member: `CN=Name,…,DC=corp,…` becomes `CORP\Name` (first DC label as the NetBIOS guess);
 * without a distinguished name (local groups), the account created with that SID, else the SID.
 */
function memberName(raw: Record<string, unknown>, namesBySid: ReadonlyMap<string, string>): string | null {
  const distinguished = text(raw.MemberName);
  if (distinguished) {
    const common = /(?:^|,)\s*CN=((?:\\,|[^,])+)/i.exec(distinguished)?.[1]?.replace(/\\,/g, ',');
    const domain = /(?:^|,)\s*DC=([^,]+)/i.exec(distinguished)?.[1];
    if (common) return domain ? `${domain.toUpperCase()}\\${common}` : common;
    return distinguished;
  }
  const sid = text(raw.MemberSid);
  return sid === null ? null : (namesBySid.get(sid.toUpperCase()) ?? sid);
}

/** SID → `DOMAIN\name` of accounts created in the telemetry (4720), to name members of local groups. */
async function createdAccounts(siem: SiemBackend): Promise<Map<string, string>> {
  const page = await siem.searchEvents({ eventCode: 4720, limit: maxEventsPerCode, offset: 0 });
  const names = new Map<string, string>();
  for (const event of page.events) {
    const sid = text(event.raw.TargetSid);
    const name = groupName(event.raw);
    if (sid && name) names.set(sid.toUpperCase(), name);
  }
  return names;
}
