/**
 * Provenance: which fields of a tool result Warden can vouch for. Trusted fields come from
 * Warden's own records (inventory, its own ids, curated ATT&CK names, feed metadata, the ticket
 * this run opened); everything else, above all free text recorded from the monitored systems
 * (command lines, event messages, ticket text, intel references and descriptions), is untrusted.
 * Labels are field paths with `*` for any array element; a field not listed is untrusted.
 */

/** Trusted field paths per bundled tool (`<bundled kind>.<tool>`). */
export const bundledTrustedFields: Readonly<Record<string, readonly string[]>> = {
  'siem.search_events': ['events.*.id', 'total', 'nextOffset'],
  'siem.get_event': ['event.id'],
  'siem.count_events': ['field', 'total'],
  'siem.logon_history': ['logons.*.eventId'],
  'edr.process_tree': [
    'process.eventId',
    'ancestors.*.eventId',
    'descendants.*.eventId',
    'descendants.*.depth',
  ],
  'edr.network_connections': ['connections.*.eventId'],
  // Inventory facts and Warden's own isolation state; `users` and `lastSeen` come from telemetry.
  'edr.host_summary': ['host', 'os', 'ip', 'criticality', 'owner', 'role', 'isolated', 'eventCount'],
  'edr.image_loads': ['imageLoads.*.eventId'],
  'edr.process_access': ['accesses.*.eventId'],
  'edr.file_writes': ['fileWrites.*.eventId'],
  'edr.registry_writes': ['registryWrites.*.eventId'],
  'edr.isolate_host': ['changed', 'state', 'at'],
  'edr.release_host': ['changed', 'state', 'at'],
  'edr.kill_process': ['changed', 'state', 'at'],
  'intel.lookup_indicator': ['type', 'verdict', 'matches.*.source', 'matches.*.family', 'matches.*.category'],
  'intel.lookup_technique': [
    'id',
    'name',
    'tactics.*',
    'url',
    'parent',
    'platforms.*',
    'deprecated',
    'revoked',
  ],
  'intel.lookup_group': ['id', 'name', 'aliases.*', 'url', 'techniques.*.id', 'software.*.id'],
  'intel.lookup_software': ['id', 'name', 'type', 'aliases.*', 'url', 'techniques.*.id', 'groups.*.id'],
  'iam.list_users': ['users.*.groups.*', 'users.*.disabled'],
  'iam.get_user': ['user.groups.*', 'user.disabled', 'user.disabledAt', 'user.sessionsRevokedAt'],
  'iam.list_groups': ['groups.*.name'],
  'iam.disable_user': ['changed', 'state', 'at'],
  'iam.enable_user': ['changed', 'state', 'at'],
  'iam.revoke_sessions': ['changed', 'state', 'at', 'revokedSessions'],
  // Only the ticket this call created or changed is Warden's to vouch for; listed tickets' ids are not.
  'ticket.create_ticket': ['ticket.id', 'ticket.status', 'ticket.severity', 'ticket.createdAt'],
  'ticket.add_comment': ['ticket.status', 'ticket.updatedAt'],
  'ticket.update_status': ['ticket.status', 'ticket.updatedAt'],
  'ticket.get_ticket': ['ticket.status', 'ticket.severity', 'ticket.createdAt', 'ticket.updatedAt'],
  'ticket.list_tickets': ['tickets.*.status', 'tickets.*.severity', 'tickets.*.createdAt'],
};

/** The field-level labels a result carries: trusted path patterns; all other fields are untrusted. */
export interface ResultLabels {
  trusted: string[];
}

/** One leaf of a JSON value with its path (`a.0.b`). */
export interface Leaf {
  path: string;
  value: string | number | boolean;
}

export function leavesOf(value: unknown, path = '', out: Leaf[] = [], depth = 0): Leaf[] {
  if (depth > 32 || out.length > 20_000) return out;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.push({ path, value });
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries())
      leavesOf(item, path ? `${path}.${index}` : String(index), out, depth + 1);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      leavesOf(item, path ? `${path}.${key}` : key, out, depth + 1);
  }
  return out;
}

/** Does a concrete path (`events.3.id`) match a label pattern (`events.*.id`)? */
export function pathMatches(path: string, pattern: string): boolean {
  const parts = path.split('.');
  const wanted = pattern.split('.');
  if (parts.length !== wanted.length) return false;
  return wanted.every((part, index) => part === '*' || part === parts[index]);
}

/**
 * The labels for a tool's result: the bundled map for bundled servers, the operator's
 * `provenance.trusted` config for any tool, else nothing trusted. An error result is untrusted.
 */
export function labelResult(options: {
  tool: string;
  bundledKind: string | null;
  isError: boolean;
  configured?: Readonly<Record<string, readonly string[]>>;
}): ResultLabels {
  if (options.isError) return { trusted: [] };
  const configured = options.configured?.[options.tool];
  if (configured) return { trusted: [...configured] };
  if (!options.bundledKind) return { trusted: [] };
  const toolName = options.tool.slice(options.tool.indexOf('.') + 1);
  return { trusted: [...(bundledTrustedFields[`${options.bundledKind}.${toolName}`] ?? [])] };
}

/** Splits a result's leaves by label. */
export function partitionLeaves(
  value: unknown,
  labels: ResultLabels,
): { trusted: Leaf[]; untrusted: Leaf[] } {
  const trusted: Leaf[] = [];
  const untrusted: Leaf[] = [];
  for (const leaf of leavesOf(value)) {
    if (labels.trusted.some((pattern) => pathMatches(leaf.path, pattern))) trusted.push(leaf);
    else untrusted.push(leaf);
  }
  return { trusted, untrusted };
}
