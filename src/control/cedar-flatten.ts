import type * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { CedarRequest } from './cedar.js';

/** A context attribute as sent to the engine: its name on the wire and how a request gives its value. */
export interface ContextField {
  name: string;
  read(request: CedarRequest): cedar.CedarValueJson;
}

const approvalLeaves: Readonly<Record<string, ContextField['read']>> = {
  granted: (request) => request.approval.granted,
  approvers: (request) => request.approval.approvers,
};

/** The resource entity's attributes (Warden always gives all three). */
export const resourceLeaves: Readonly<Record<string, ContextField['read']>> = {
  kind: (request) => request.asset.kind,
  name: (request) => request.asset.name,
  criticality: (request) => request.asset.criticality,
};

/** Prefixes of the flat context attributes; a slice whose policies read such a name is not flattened. */
const FLAT_PREFIXES = ['approval.', 'resource.'];

export interface FlatSlice {
  policies: Record<string, cedar.PolicyJson>;
  /** `approval` leaves sent as `approval.<leaf>` context attributes, or null when the record is sent. */
  approval: string[] | null;
  /** Resource attributes sent as `resource.<attr>` context attributes instead of an entity, or null. */
  resource: string[] | null;
}

/** Whether a policy's JSON expression is the variable `name` (`{ Var: 'context' }`). */
export function isVar(node: unknown, name: string): boolean {
  return typeof node === 'object' && node !== null && (node as { Var?: unknown }).Var === name;
}

/** `context.approval`, exactly. */
function isContextApproval(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  const keys = Object.keys(node);
  if (keys.length !== 1 || keys[0] !== '.') return false;
  const access = (node as { '.': { left?: unknown; attr?: unknown } })['.'];
  return isVar(access.left, 'context') && access.attr === 'approval';
}

/** The `.` or `has` of a one-key node, with its operator. */
function accessOf(node: Record<string, unknown>): { op: '.' | 'has'; left: unknown; attr: unknown } | null {
  const keys = Object.keys(node);
  if (keys.length !== 1 || (keys[0] !== '.' && keys[0] !== 'has')) return null;
  const op = keys[0];
  const access = node[op] as { left?: unknown; attr?: unknown } | null;
  if (typeof access !== 'object' || access === null) return null;
  return { op, left: access.left, attr: access.attr };
}

/**
 * Sends a slice's request as flat context attributes where that decides the same: every attribute costs
 * the engine parsing per decision (cedar-wasm 4.13: ~2 µs), a nested record about twice its leaves, and an
 * entity as much as three attributes before its own. `context.approval.granted` becomes `context["approval.granted"]` when the
 * slice's policies read `context.approval` only through its leaves (`.granted`, `.approvers`, `has` of
 * one of them), and `resource.criticality` becomes `context["resource.criticality"]` (the entity is not
 * sent) when nothing needs the entity store and the resource is read only through attributes Warden
 * always gives. Values, types and the attributes present are the same, so a condition evaluates, and
 * fails, as before; any other use keeps the record or the entity. Needs the names of the context
 * attributes the slice reads (null: the context is used whole, so nothing is flattened).
 */
export function flattenSlice(
  policies: Record<string, cedar.PolicyJson>,
  contextReads: ReadonlySet<string> | null,
  needsEntities: boolean,
): FlatSlice {
  const clash =
    contextReads === null || [...contextReads].some((name) => FLAT_PREFIXES.some((p) => name.startsWith(p)));
  let approvalFlat = !clash;
  let resourceFlat = !clash && !needsEntities;
  const approval = new Set<string>();
  const resource = new Set<string>();

  const scan = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) scan(item);
      return;
    }
    if (typeof node !== 'object' || node === null || 'Value' in node) return;
    const record = node as Record<string, unknown>;
    if ('getTag' in record || 'hasTag' in record) resourceFlat = false;
    // `context.approval` reached here is used whole, or for an attribute it does not have: keep the record.
    if (isContextApproval(record)) approvalFlat = false;
    const access = accessOf(record);
    if (access) {
      const known = typeof access.attr === 'string';
      if (isContextApproval(access.left)) {
        if (known && Object.hasOwn(approvalLeaves, access.attr as string)) {
          approval.add(access.attr as string);
          return;
        }
        approvalFlat = false;
      } else if (isVar(access.left, 'resource')) {
        if (known && Object.hasOwn(resourceLeaves, access.attr as string))
          resource.add(access.attr as string);
        else resourceFlat = false;
        return;
      } else if (access.op === 'has' && isVar(access.left, 'context')) {
        // `context has approval` (or a path through it) would be false once the record is gone.
        const first = Array.isArray(access.attr) ? access.attr[0] : access.attr;
        if (first === 'approval') approvalFlat = false;
      }
    }
    for (const value of Object.values(record)) scan(value);
  };
  for (const policy of Object.values(policies)) scan(policy.conditions);
  if (!approvalFlat && !resourceFlat) return { policies, approval: null, resource: null };

  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (typeof node !== 'object' || node === null || 'Value' in node) return node;
    const record = node as Record<string, unknown>;
    const access = accessOf(record);
    if (access && typeof access.attr === 'string') {
      if (approvalFlat && isContextApproval(access.left))
        return { [access.op]: { left: { Var: 'context' }, attr: `approval.${access.attr}` } };
      if (resourceFlat && isVar(access.left, 'resource'))
        return { [access.op]: { left: { Var: 'context' }, attr: `resource.${access.attr}` } };
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) out[key] = rewrite(value);
    return out;
  };
  const flat: Record<string, cedar.PolicyJson> = {};
  for (const [id, policy] of Object.entries(policies))
    flat[id] = { ...policy, conditions: rewrite(policy.conditions) as cedar.Clause[] };
  return {
    policies: flat,
    approval: approvalFlat ? [...approval].sort() : null,
    resource: resourceFlat ? [...resource].sort() : null,
  };
}

const baseFields: Readonly<Record<string, ContextField['read']>> = {
  tier: (request) => request.tier,
  tierSource: (request) => request.tierSource,
  autonomy: (request) => request.autonomy,
  tainted: (request) => request.tainted,
  taintedArgs: (request) => [...request.taintedArgs],
  injectionSignal: (request) => request.injectionSignal,
  approval: (request) => ({ granted: request.approval.granted, approvers: request.approval.approvers }),
  args: (request) => cedarArgs(request.args),
};

/** The context attributes a slice sends, in a fixed order: those its policies read (null: all). */
export function contextFields(
  reads: ReadonlySet<string> | null,
  flat: Pick<FlatSlice, 'approval' | 'resource'>,
): ContextField[] {
  const fields: ContextField[] = [];
  for (const [name, read] of Object.entries(baseFields)) {
    if (reads !== null && !reads.has(name)) continue;
    if (name === 'approval' && flat.approval) {
      for (const leaf of flat.approval)
        fields.push({ name: `approval.${leaf}`, read: approvalLeaves[leaf]! });
      continue;
    }
    fields.push({ name, read });
  }
  for (const attr of flat.resource ?? [])
    fields.push({ name: `resource.${attr}`, read: resourceLeaves[attr]! });
  return fields;
}

function cedarArgs(args: Readonly<Record<string, unknown>>): Record<string, cedar.CedarValueJson> {
  const out: Record<string, cedar.CedarValueJson> = {};
  // Only scalars Cedar can hold; floats, nulls and nested values would make every policy error.
  // In key order, so the same arguments make the same decision-cache key whatever order they came in.
  for (const key of Object.keys(args).sort()) {
    const value = args[key];
    if (typeof value === 'string' || typeof value === 'boolean' || Number.isSafeInteger(value))
      out[key] = value as string | boolean | number;
  }
  return out;
}
