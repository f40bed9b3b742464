import { parse } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { shortHost } from './events.js';

const hostSchema = z.object({
  os: z.string().nullish(),
  ip: z.string().nullish(),
  criticality: z.enum(['low', 'medium', 'high', 'critical']),
  owner: z.string().nullish(),
  role: z.string().nullish(),
});

const inventorySchema = z.object({ hosts: z.record(z.string(), hostSchema) });

export interface HostRecord {
  name: string;
  os: string | null;
  ip: string | null;
  criticality: 'low' | 'medium' | 'high' | 'critical';
  owner: string | null;
  role: string | null;
}

/** Known hosts, looked up by short name, FQDN or IP address. */
export interface Inventory {
  readonly hosts: readonly HostRecord[];
  resolve(nameOrIp: string): HostRecord | undefined;
}

/** Parses `inventory.yaml` (`hosts: { NAME: { os, ip, criticality, owner, role } }`). */
export function parseInventory(text: string, source: string): Inventory {
  const parsed = inventorySchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${source}: ${issue?.path.join('.') ?? 'hosts'}: ${issue?.message ?? 'invalid inventory'}`,
    );
  }
  const hosts = Object.entries(parsed.data.hosts).map(
    ([name, host]): HostRecord => ({
      name,
      os: host.os ?? null,
      ip: host.ip ?? null,
      criticality: host.criticality,
      owner: host.owner ?? null,
      role: host.role ?? null,
    }),
  );
  const byKey = new Map<string, HostRecord>();
  for (const host of hosts) {
    byKey.set(shortHost(host.name), host);
    if (host.ip) byKey.set(host.ip, host);
  }
  return { hosts, resolve: (nameOrIp) => byKey.get(shortHost(nameOrIp)) };
}
