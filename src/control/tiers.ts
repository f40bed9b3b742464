import type { Tier, WardenConfig } from '../config/index.js';

/** Warden's own classification of the bundled servers' tools, keyed by bundled kind. */
export const bundledToolTiers: Readonly<Record<string, Tier>> = {
  'siem.search_events': 'read',
  'siem.get_event': 'read',
  'siem.count_events': 'read',
  'siem.logon_history': 'read',
  'edr.process_tree': 'read',
  'edr.network_connections': 'read',
  'edr.host_summary': 'read',
  'edr.image_loads': 'read',
  'edr.process_access': 'read',
  'edr.file_writes': 'read',
  'edr.registry_writes': 'read',
  'edr.isolate_host': 'destructive',
  'edr.release_host': 'destructive',
  'edr.kill_process': 'destructive',
  'intel.lookup_indicator': 'read',
  'intel.lookup_technique': 'read',
  'intel.lookup_group': 'read',
  'intel.lookup_software': 'read',
  'iam.list_users': 'read',
  'iam.get_user': 'read',
  'iam.list_groups': 'read',
  'iam.disable_user': 'destructive',
  'iam.enable_user': 'destructive',
  'iam.revoke_sessions': 'destructive',
  'ticket.get_ticket': 'read',
  'ticket.list_tickets': 'read',
  'ticket.create_ticket': 'reversible',
  'ticket.add_comment': 'reversible',
  'ticket.update_status': 'reversible',
};

/** Configured server name → bundled kind, for the servers that are Warden's own. */
export function bundledServerKinds(config: Pick<WardenConfig, 'servers'>): Map<string, string> {
  return new Map(
    Object.entries(config.servers).flatMap(([name, server]) =>
      'bundled' in server && server.bundled ? [[name, server.bundled] as const] : [],
    ),
  );
}

/** The bare tool names of a bundled server kind, from Warden's own tier table. */
export function bundledToolsOf(kind: string): string[] {
  return Object.keys(bundledToolTiers)
    .filter((key) => key.startsWith(`${kind}.`))
    .map((key) => key.slice(kind.length + 1));
}

export type TierSource = 'config' | 'config-rule' | 'bundled-default' | 'unclassified';

type ArgValue = string | number | boolean;

/** An argument-conditioned tier: `tool` called with every `when` argument equal to (one of) the given values. */
export interface TierRule {
  tool: string;
  when: Readonly<Record<string, ArgValue | readonly ArgValue[]>>;
  tier: Tier;
}

export interface TierLookup {
  tier: Tier;
  source: TierSource;
}

export interface TierRegistry {
  /** The tool's tier; with `args`, argument-conditioned rules apply too. */
  tierOf(tool: string, args?: Readonly<Record<string, unknown>>): TierLookup;
}

const tierRank: Record<Tier, number> = { read: 0, reversible: 1, destructive: 2 };

function ruleMatches(rule: TierRule, tool: string, args: Readonly<Record<string, unknown>>): boolean {
  if (rule.tool !== tool) return false;
  return Object.entries(rule.when).every(([name, expected]) => {
    const actual = args[name];
    return Array.isArray(expected) ? expected.includes(actual as ArgValue) : actual === expected;
  });
}

/**
 * Resolves a tool's tier: a matching argument rule (the highest tier when several match), then exact config override, then `server.*` override, then the bundled
 * default for servers that are bundled kinds, else destructive. Never from a server's annotations.
 */
export function createTierRegistry(options: {
  overrides: Readonly<Record<string, Tier>>;
  /** Configured server name → bundled kind, for servers that are bundled. */
  bundledKinds: ReadonlyMap<string, string>;
  rules?: readonly TierRule[];
}): TierRegistry {
  const rules = options.rules ?? [];
  return {
    tierOf(tool, args) {
      if (args && rules.length > 0) {
        const matched = rules.filter((rule) => ruleMatches(rule, tool, args));
        if (matched.length > 0) {
          const tier = matched.reduce(
            (top, rule) => (tierRank[rule.tier] > tierRank[top] ? rule.tier : top),
            'read' as Tier,
          );
          return { tier, source: 'config-rule' };
        }
      }
      const dot = tool.indexOf('.');
      const server = dot > 0 ? tool.slice(0, dot) : tool;
      const name = dot > 0 ? tool.slice(dot + 1) : '';
      const exact = options.overrides[tool];
      if (exact) return { tier: exact, source: 'config' };
      const wildcard = options.overrides[`${server}.*`];
      if (wildcard) return { tier: wildcard, source: 'config' };
      const kind = options.bundledKinds.get(server);
      const bundled = kind ? bundledToolTiers[`${kind}.${name}`] : undefined;
      if (bundled) return { tier: bundled, source: 'bundled-default' };
      return { tier: 'destructive', source: 'unclassified' };
    },
  };
}
