import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Tier } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { canonicalJson } from '../store/index.js';
import type { Criticality } from './assets.js';
import { type ContextField, contextFields, flattenSlice, isVar, resourceLeaves } from './cedar-flatten.js';
import type { TierSource } from './tiers.js';

/** The default policies shipped with Warden (`policies/*.cedar`). */
export const bundledPoliciesDirectory = fileURLToPath(new URL('../../policies', import.meta.url));

export type AutonomyLevel = 'suggest' | 'approve' | 'notify' | 'auto';

/** What a forbid policy means when it determines a deny: a hard deny, or a gate a human can lift. */
export type PolicyEffectOnDeny = 'deny' | 'require_approval' | 'suggest';

export interface PolicyMeta {
  id: string;
  /** `file:line` where the policy starts, or `config policy.deny`. */
  source: string;
  effect: 'permit' | 'forbid';
  onDeny: PolicyEffectOnDeny;
  reason: string;
  /** Distinct approvers a `require_approval` forbid asks for. */
  approvers: number;
}

export interface CedarRequest {
  runId: string;
  tool: string;
  tier: Tier;
  tierSource: TierSource;
  autonomy: AutonomyLevel;
  tainted: boolean;
  taintedArgs: readonly string[];
  injectionSignal: boolean;
  approval: { granted: boolean; approvers: number };
  asset: { kind: 'host' | 'user' | 'none'; name: string; criticality: Criticality | 'unknown' };
  args: Readonly<Record<string, unknown>>;
}

export interface PolicyReason {
  policy: string;
  reason: string;
}

export interface CedarVerdict {
  type: 'allow' | 'deny' | 'require_approval' | 'suggest';
  /** Determining policies with their `@reason`; for a default deny, a synthetic `default-deny`. */
  reasons: PolicyReason[];
  /** Distinct approvers needed when `require_approval`. */
  approvers: number;
}

export interface CedarPolicySet {
  /** SHA-256 of the policy set content (every policy's id and text, including the generated deny list). */
  readonly version: string;
  readonly policies: readonly PolicyMeta[];
  evaluate(request: CedarRequest): CedarVerdict;
  /**
   * The engine's own answer to one request, as sent (no second look with an approval): its decision,
   * the determining policies' ids and the policies that failed to evaluate with their errors, sorted.
   */
  explain(request: CedarRequest): {
    decision: 'allow' | 'deny' | 'failure';
    reasons: string[];
    errors: Array<{ policy: string; message: string }>;
  };
  /** Decisions answered from the decision cache (`hits`) and by the engine (`misses`) so far. */
  cacheStats(): { hits: number; misses: number; size: number };
}

/** Engine answers kept per policy set; the oldest is dropped past this. */
export const DECISION_CACHE_SIZE = 1024;
/** Requests whose cache key is longer than this (large `args` read by a custom policy) are not cached. */
const MAX_CACHE_KEY = 4096;

const onDenyValues = new Set<PolicyEffectOnDeny>(['deny', 'require_approval', 'suggest']);

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

function parseFailure(file: string, text: string, errors: cedar.DetailedError[]): ConfigError {
  const first = errors[0];
  const at = first?.sourceLocations?.[0];
  const where = at ? `${file}:${lineOf(text, at.start)}` : file;
  const label = at?.label ? ` (${at.label})` : '';
  return new ConfigError(
    `policy file ${where}: ${first?.message ?? 'cannot be parsed'}${label}; fix the Cedar syntax or set policy.directory to a valid policy folder`,
  );
}

/** Splits one file into policies and reads their annotations; errors name the file and line. */
function readPolicyFile(file: string, text: string): LoadedPolicy[] {
  const parsed = cedar.checkParsePolicySet({ staticPolicies: text });
  if (parsed.type === 'failure') throw parseFailure(file, text, parsed.errors);
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') throw parseFailure(file, text, parts.errors);
  if (parts.policy_templates.length > 0)
    throw new ConfigError(`policy file ${file}: templates are not supported; write static policies`);
  return parts.policies.map((policyText, index) => {
    const json = cedar.policyToJson(policyText);
    if (json.type === 'failure') throw parseFailure(file, text, json.errors);
    const annotations = json.json.annotations ?? {};
    const offset = text.indexOf(policyText);
    const source = `${file}:${offset >= 0 ? lineOf(text, offset) : '?'}`;
    const effect = json.json.effect;
    const onDeny = (annotations.decision ?? 'deny') as PolicyEffectOnDeny;
    if (!onDenyValues.has(onDeny))
      throw new ConfigError(
        `policy ${source}: @decision("${annotations.decision}") is not one of deny, require_approval, suggest`,
      );
    if (effect === 'permit' && annotations.decision !== undefined)
      throw new ConfigError(`policy ${source}: @decision applies to forbid policies only`);
    const approvers = Number(annotations.approvers ?? '1');
    if (!Number.isInteger(approvers) || approvers < 1 || approvers > 5)
      throw new ConfigError(`policy ${source}: @approvers must be a whole number from 1 to 5`);
    return {
      text: policyText,
      json: json.json,
      uses: attributeUses(json.json),
      meta: {
        id: annotations.id ?? `${file}#${index + 1}`,
        source,
        effect,
        onDeny,
        reason: annotations.reason ?? `${effect} policy ${annotations.id ?? source}`,
        approvers,
      },
    };
  });
}

/** `server.tool` / `server.*` / `*` patterns of `policy.deny` as hard forbid policies. */
function denyListPolicies(deny: readonly string[]): LoadedPolicy[] {
  return deny.map((pattern, index) => {
    const scope = pattern === '*' ? 'action' : `action in Action::${JSON.stringify(pattern)}`;
    const id = `policy.deny[${index}]`;
    const text = `forbid (principal, ${scope}, resource);`;
    const json = cedar.policyToJson(text);
    if (json.type === 'failure')
      throw new ConfigError(
        `policy.deny[${index}] "${pattern}" is not a valid action pattern; write server.tool, server.* or *`,
      );
    return {
      text,
      json: json.json,
      uses: { context: new Set<string>(), resource: new Set<string>(), principal: false },
      meta: {
        id,
        source: 'config policy.deny',
        effect: 'forbid' as const,
        onDeny: 'deny' as const,
        reason: `${pattern} is on policy.deny`,
        approvers: 1,
      },
    };
  });
}

interface LoadedPolicy {
  text: string;
  json: cedar.PolicyJson;
  uses: AttributeUses;
  meta: PolicyMeta;
}

/**
 * Which attributes of `context` and of the resource entity a policy reads; `null` when it could
 * read any of them (the variable used whole, or an attribute read from anything but the variable).
 */
interface AttributeUses {
  context: Set<string> | null;
  resource: Set<string> | null;
  /** The policy constrains or reads the principal (the run). */
  principal: boolean;
}

function attributeUses(policy: unknown): AttributeUses {
  const uses: AttributeUses = { context: new Set(), resource: new Set(), principal: false };
  const scope = (policy as { principal?: { op?: unknown } } | null)?.principal;
  if (scope?.op !== 'All') uses.principal = true;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (record.Var === 'context') uses.context = null;
    if (record.Var === 'resource') uses.resource = null;
    if (record.Var === 'principal') uses.principal = true;
    for (const [key, value] of Object.entries(record)) {
      const access = value as { left?: unknown; attr?: unknown } | null;
      if ((key === '.' || key === 'has') && typeof access === 'object' && access !== null) {
        const attr = Array.isArray(access.attr) ? access.attr[0] : access.attr;
        if (isVar(access.left, 'context') && typeof attr === 'string') {
          uses.context?.add(attr);
          walk(access.attr);
          continue;
        }
        if (isVar(access.left, 'resource') && typeof attr === 'string') {
          uses.resource?.add(attr);
          continue;
        }
        // An attribute of any other expression might be the resource entity's (an entity literal, say),
        // except one of a value inside the context (`context.approval.granted`): Warden builds it, entity-free.
        if (!fromContext(access.left)) uses.resource = null;
      }
      walk(value);
    }
  };
  walk(policy);
  return uses;
}

function mergeUses(all: readonly AttributeUses[]): AttributeUses {
  const merged: AttributeUses = { context: new Set(), resource: new Set(), principal: false };
  for (const uses of all) {
    if (uses.principal) merged.principal = true;
    for (const name of ['context', 'resource'] as const) {
      const target = merged[name];
      const source = uses[name];
      if (source === null) merged[name] = null;
      else if (target) for (const attr of source) target.add(attr);
    }
  }
  return merged;
}

/** Policy slices kept per policy set (one per distinct action seen, see PolicySlice); the oldest is dropped past this. */
export const POLICY_SLICE_COUNT = 256;

/**
 * The policies that can apply to one action (a tool at a tier, with its action class's autonomy level and
 * the source of its tier), made ready for it. Warden builds the action entity itself (`Action::"<tool>"`,
 * member of `Action::"<tier>"` and `Action::"<server>.*"`), so for a given tool and tier each policy's
 * action scope is known to match or not before any request: a policy whose scope cannot match is left
 * out (Cedar never evaluates its conditions, so it could neither determine nor fail a decision), and in
 * the others the scope and every `action in <entity literals>` test is replaced by its value. Warden sets
 * `context.tier`, `context.autonomy` and `context.tierSource` itself too, so they are replaced by their
 * values (`context.autonomy == "suggest"` is false at any other level) and sent only if a policy still
 * reads them (`context has autonomy`). A policy whose conditions are then fixed against it, without any
 * way to fail (`context.tainted && !(action in Action::"read")` for a read), is left out too: the context
 * attributes Warden builds have fixed types (knownOf). Where nothing else in the slice needs the entities
 * (no other `in`, no attribute of an entity other than the resource's, no tags), the action entity is not
 * sent at all, and the resource entity only when a policy of the slice reads one of its attributes;
 * likewise only the context attributes the slice's policies read are sent. Decisions, determining
 * policies and evaluation errors are the same as the whole set's (test/control/cedar-slice.test.ts).
 */
interface PolicySlice {
  /** Tier, autonomy level, tier source and tool. */
  key: string;
  /** The wasm engine's id of the preparsed slice (slots are reused, so the engine's memory stays bounded). */
  id: string;
  uses: AttributeUses;
  /** Send the action entity with its parents and the resource entity (a policy needs the hierarchy). */
  entities: boolean;
  /** Send the resource entity, with these attributes. */
  resourceEntity: boolean;
  resourceAttrs: readonly string[];
  /** The context attributes sent (see flattenSlice). */
  context: readonly ContextField[];
}

/** Slices of every policy set version loaded in this process (see `sliceFor`). */
const sliceRegistries = new Map<
  string,
  { prefix: string; slices: Map<string, PolicySlice>; freeSlots: string[]; slotCount: number }
>();

type Ancestry = (uid: unknown) => boolean | null;

/** Whether `uid` names the action or one of its parents; null when it is not an entity uid. */
function ancestryOf(tool: string, tier: Tier): Ancestry {
  const server = tool.split('.')[0] ?? '';
  const ids = new Set([tool, tier, `${server}.*`]);
  return (uid) => {
    const entity = (uid as { __entity?: unknown } | null)?.__entity ?? uid;
    if (typeof entity !== 'object' || entity === null) return null;
    const { type, id } = entity as { type?: unknown; id?: unknown };
    if (typeof type !== 'string' || typeof id !== 'string') return null;
    return type === 'Action' && ids.has(id);
  };
}

/** Whether an action scope matches the action; null when it cannot be told statically (a slot). */
function actionScopeMatches(
  scope: cedar.ActionConstraint,
  isAncestorOrSelf: Ancestry,
  tool: string,
): boolean | null {
  if (scope.op === 'All') return true;
  if (scope.op === '==') {
    if (!('entity' in scope)) return null;
    const entity =
      (scope.entity as { __entity?: cedar.TypeAndId }).__entity ?? (scope.entity as cedar.TypeAndId);
    return entity.type === 'Action' && entity.id === tool;
  }
  const members = 'entity' in scope ? [scope.entity] : scope.entities;
  let matches = false;
  for (const member of members) {
    const answer = isAncestorOrSelf(member);
    if (answer === null) return null;
    if (answer) matches = true;
  }
  return matches;
}

/** The entity uids of an `in` right-hand side made only of entity literals, else null. */
function entityLiterals(expr: unknown): unknown[] | null {
  const node = expr as { Value?: unknown; Set?: unknown } | null;
  if (node && typeof node === 'object' && 'Value' in node) {
    const value = node.Value;
    if (Array.isArray(value))
      return value.every((item) => typeof item === 'object' && item !== null && '__entity' in item)
        ? value
        : null;
    return typeof value === 'object' && value !== null && '__entity' in value ? [value] : null;
  }
  if (node && typeof node === 'object' && Array.isArray(node.Set)) {
    const members: unknown[] = [];
    for (const item of node.Set) {
      const literal = entityLiterals(item);
      if (literal?.length !== 1 || Array.isArray((item as { Value?: unknown }).Value)) return null;
      members.push(literal[0]);
    }
    return members;
  }
  return null;
}

/** True when `expr` is `context` or an attribute path from it (a record Warden builds, holding no entity). */
function fromContext(expr: unknown): boolean {
  const node = expr as { Var?: unknown; '.'?: { left?: unknown } } | null;
  if (!node || typeof node !== 'object') return false;
  if (node.Var === 'context') return true;
  return node['.'] !== undefined && fromContext(node['.'].left);
}

/**
 * Replaces each `action in <entity literals>` of a condition by its value for this action. Sets
 * `needs.entities` when something else may read the entity store: another `in` or `is … in`, an
 * attribute of anything but `context` or `resource`, or tags.
 */
function foldActionTests(
  expr: unknown,
  isAncestorOrSelf: Ancestry,
  needs: { entities: boolean },
  fixed: Readonly<Record<string, string>>,
): unknown {
  if (Array.isArray(expr)) return expr.map((item) => foldActionTests(item, isAncestorOrSelf, needs, fixed));
  if (typeof expr !== 'object' || expr === null) return expr;
  const record = expr as Record<string, unknown>;
  if ('Value' in record) return expr;
  const access = record['.'] as { left?: unknown; attr?: unknown } | undefined;
  if (
    access &&
    Object.keys(record).length === 1 &&
    isVar(access.left, 'context') &&
    typeof access.attr === 'string' &&
    Object.hasOwn(fixed, access.attr)
  )
    return { Value: fixed[access.attr] };
  const inner = record.in as { left?: unknown; right?: unknown } | undefined;
  if (inner && Object.keys(record).length === 1) {
    const literals = isVar(inner.left, 'action') ? entityLiterals(inner.right) : null;
    if (literals) return { Value: literals.some((uid) => isAncestorOrSelf(uid) === true) };
    needs.entities = true;
  }
  for (const op of ['.', 'has'] as const) {
    const access = record[op] as { left?: unknown } | undefined;
    if (access && !fromContext(access.left) && !isVar(access.left, 'resource')) needs.entities = true;
  }
  if ('getTag' in record || 'hasTag' in record) needs.entities = true;
  if ((record.is as { in?: unknown } | undefined)?.in !== undefined) needs.entities = true;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record))
    out[key] = foldActionTests(value, isAncestorOrSelf, needs, fixed);
  return out;
}

/** What a condition is known to be before any request: its type, whether it can fail, its value if fixed. */
interface Known {
  type: 'bool' | 'long' | 'string' | 'set' | 'record' | 'approval' | 'context' | 'other' | 'unknown';
  /** Evaluating it cannot fail (no missing attribute, no type error). */
  safe: boolean;
  value?: boolean;
  /** The value of a literal string, long or boolean. */
  literal?: string | number | boolean;
}

/** Types of the context attributes Warden builds (see `authorize`); `args` holds whatever the call had. */
const contextTypes: Record<string, Known['type']> = {
  tier: 'string',
  tierSource: 'string',
  autonomy: 'string',
  tainted: 'bool',
  injectionSignal: 'bool',
  taintedArgs: 'set',
  approval: 'approval',
  args: 'record',
};

const unknown: Known = { type: 'unknown', safe: false };

/**
 * Evaluates what can be known of a condition from the context's fixed shape and the folded action
 * tests alone: enough to see that `context.tainted && !(action in Action::"read")` is false for a read
 * without any request. Anything it does not model is `unknown` (may fail, value not fixed).
 */
function knownOf(expr: unknown): Known {
  if (typeof expr !== 'object' || expr === null || Array.isArray(expr)) return unknown;
  const record = expr as Record<string, { left?: unknown; right?: unknown; arg?: unknown; attr?: unknown }>;
  const [op] = Object.keys(record);
  if (Object.keys(record).length !== 1 || op === undefined) return unknown;
  const node = record[op]!;
  switch (op) {
    case 'Value': {
      const value = node as unknown;
      if (typeof value === 'boolean') return { type: 'bool', safe: true, value, literal: value };
      if (Number.isSafeInteger(value)) return { type: 'long', safe: true, literal: value as number };
      if (typeof value === 'number') return { type: 'long', safe: true };
      if (typeof value === 'string') return { type: 'string', safe: true, literal: value };
      return { type: 'other', safe: true };
    }
    case 'Var':
      return { type: (node as unknown) === 'context' ? 'context' : 'other', safe: true };
    case '.': {
      const left = knownOf(node.left);
      if (!left.safe || typeof node.attr !== 'string') return unknown;
      if (left.type === 'context') {
        const type = contextTypes[node.attr];
        return type ? { type, safe: true } : unknown;
      }
      if (left.type === 'approval') {
        if (node.attr === 'granted') return { type: 'bool', safe: true };
        if (node.attr === 'approvers') return { type: 'long', safe: true };
      }
      return unknown;
    }
    case '!': {
      const arg = knownOf(node.arg);
      if (arg.type !== 'bool') return unknown;
      return arg.value === undefined
        ? { type: 'bool', safe: arg.safe }
        : { type: 'bool', safe: arg.safe, value: !arg.value };
    }
    case '==':
    case '!=': {
      // Equality never fails in Cedar: only its operands can. Two literals compare by type and value.
      const left = knownOf(node.left);
      const right = knownOf(node.right);
      const safe = left.safe && right.safe;
      if (left.literal === undefined || right.literal === undefined) return { type: 'bool', safe };
      return { type: 'bool', safe, value: (left.literal === right.literal) === (op === '==') };
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const left = knownOf(node.left);
      const right = knownOf(node.right);
      return { type: 'bool', safe: left.safe && right.safe && left.type === 'long' && right.type === 'long' };
    }
    case '&&':
    case '||': {
      // Left to right, the right operand only when the left does not decide.
      const decides = op === '||';
      const left = knownOf(node.left);
      if (left.type !== 'bool') return unknown;
      if (left.value === decides) return left;
      const right = knownOf(node.right);
      if (right.type !== 'bool') return unknown;
      const safe = left.safe && right.safe;
      if (left.value === !decides) return { ...right, safe };
      return right.value === decides ? { type: 'bool', safe, value: decides } : { type: 'bool', safe };
    }
    default:
      return unknown;
  }
}

/**
 * True when a policy (its action tests folded) can neither apply nor fail: some condition is fixed
 * against it and cannot fail, and so cannot any condition before it (Cedar evaluates them in order).
 */
function neverApplies(conditions: readonly cedar.Clause[]): boolean {
  for (const clause of conditions) {
    const known = knownOf(clause.body);
    if (known.type !== 'bool' || !known.safe) return false;
    if (known.value === (clause.kind !== 'when')) return true;
  }
  return false;
}

/** The slice of `all` for one tool at one tier, as policies ready to preparse; see PolicySlice. */
function slicePolicies(
  all: readonly LoadedPolicy[],
  tool: string,
  tier: Tier,
  fixed: Readonly<Record<string, string>>,
): { policies: Record<string, cedar.PolicyJson>; uses: AttributeUses; entities: boolean } | null {
  const isAncestorOrSelf = ancestryOf(tool, tier);
  const needs = { entities: false };
  const policies: Record<string, cedar.PolicyJson> = {};
  const uses: AttributeUses[] = [];
  for (const { json, meta } of all) {
    const matches = actionScopeMatches(json.action, isAncestorOrSelf, tool);
    if (matches === null) return null;
    if (!matches) continue;
    const policyNeeds = { entities: false };
    const conditions = json.conditions.map((clause) => ({
      ...clause,
      body: foldActionTests(clause.body, isAncestorOrSelf, policyNeeds, fixed) as cedar.Expr,
    }));
    if (neverApplies(conditions)) continue;
    if (policyNeeds.entities) needs.entities = true;
    const folded: cedar.PolicyJson = { ...json, action: { op: 'All' }, conditions };
    policies[meta.id] = folded;
    // What the folded policy still reads: a fixed context attribute is sent only if read otherwise (`has`).
    uses.push(attributeUses(folded));
    // A principal or resource scope that needs the entity store (`in`, `is … in`).
    for (const scope of [json.principal, json.resource])
      if (scope.op === 'in' || (scope.op === 'is' && 'in' in scope && scope.in !== undefined))
        needs.entities = true;
  }
  return { policies, uses: mergeUses(uses), entities: needs.entities };
}

/** The resource entity's attributes a slice sends: those its policies read (null: all). */
function resourceAttrsOf(reads: ReadonlySet<string> | null): string[] {
  return Object.keys(resourceLeaves).filter((attr) => reads === null || reads.has(attr));
}

/** Freezes a cached engine answer, so no caller can change what a later decision returns. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Loads every `*.cedar` file of `directory` (sorted by name) plus the config deny list, checks
 * them at start-up (errors name file and line) and pre-parses them once into the wasm engine.
 */
export function loadCedarPolicies(options: {
  directory: string;
  deny: readonly string[];
  /** Engine answers cached (see `authorize`); 0 turns the cache off. Default DECISION_CACHE_SIZE. */
  cacheSize?: number;
  /** Send each request to the slice of policies that can apply to its tool and tier (PolicySlice). Default true. */
  slicing?: boolean;
}): CedarPolicySet {
  let files: string[];
  try {
    files = readdirSync(options.directory)
      .filter((name) => name.endsWith('.cedar'))
      .sort();
  } catch (error) {
    throw new ConfigError(
      `policy.directory ${options.directory} cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (files.length === 0)
    throw new ConfigError(
      `policy.directory ${options.directory} has no .cedar files; everything would be denied`,
    );
  const all = [
    ...files.flatMap((name) =>
      readPolicyFile(join(options.directory, name), readFileSync(join(options.directory, name), 'utf8')),
    ),
    ...denyListPolicies(options.deny),
  ];
  // Only what some policy reads is sent to the engine: every attribute costs parsing per decision.
  const wholeUses = mergeUses(all.map((policy) => policy.uses));
  const whole: PolicySlice = {
    key: '',
    id: '',
    uses: wholeUses,
    entities: true,
    resourceEntity: true,
    resourceAttrs: resourceAttrsOf(wholeUses.resource),
    context: contextFields(wholeUses.context, { approval: null, resource: null }),
  };
  const slicing = options.slicing ?? true;
  const cacheSize = options.cacheSize ?? DECISION_CACHE_SIZE;
  const cache = new Map<string, cedar.AuthorizationAnswer>();
  let hits = 0;
  let misses = 0;
  const byId = new Map<string, PolicyMeta>();
  const texts: Record<string, string> = {};
  for (const { text, meta } of all) {
    const earlier = byId.get(meta.id);
    if (earlier)
      throw new ConfigError(`policy ${meta.source}: @id("${meta.id}") is already used at ${earlier.source}`);
    byId.set(meta.id, meta);
    texts[meta.id] = text;
  }
  const version = createHash('sha256').update(canonicalJson(texts)).digest('hex');
  const preparsed = cedar.preparsePolicySet(version, { staticPolicies: texts });
  if (preparsed.type === 'failure')
    throw new ConfigError(
      `policy set cannot be loaded: ${preparsed.errors.map((e) => e.message).join('; ')}`,
    );
  whole.id = version;

  // The wasm engine keeps preparsed sets in one table per process, so slices are shared by every set
  // loaded with this version (the same policies, so the same slices): two sets of one version must not
  // put different slices under one id.
  let registry = sliceRegistries.get(version);
  if (!registry) {
    registry = { prefix: `s${sliceRegistries.size + 1}.`, slices: new Map(), freeSlots: [], slotCount: 0 };
    sliceRegistries.set(version, registry);
  }
  const { slices, freeSlots } = registry;
  const shared = registry;
  function sliceFor(request: CedarRequest): PolicySlice {
    const { tool, tier, autonomy, tierSource } = request;
    const key = `${tier}\u0000${autonomy}\u0000${tierSource}\u0000${tool}`;
    const known = slices.get(key);
    if (known) return known;
    if (slices.size >= POLICY_SLICE_COUNT) {
      const [oldestKey, oldest] = slices.entries().next().value as [string, PolicySlice];
      slices.delete(oldestKey);
      if (oldest.id !== version) freeSlots.push(oldest.id);
    }
    // A slice that cannot be made (a scope Warden cannot judge statically) is the whole set.
    let slice = whole;
    const made = slicePolicies(all, tool, tier, { tier, autonomy, tierSource });
    if (made) {
      // A short id: the engine's input is JSON, and the id is in every request.
      const id = freeSlots.pop() ?? `${shared.prefix}${shared.slotCount++}`;
      const flat = flattenSlice(made.policies, made.uses.context, made.entities);
      const answer = cedar.preparsePolicySet(id, { staticPolicies: flat.policies });
      if (answer.type === 'success')
        slice = {
          key,
          id,
          uses: made.uses,
          entities: made.entities,
          resourceEntity:
            made.entities ||
            (flat.resource === null && (made.uses.resource === null || made.uses.resource.size > 0)),
          resourceAttrs: resourceAttrsOf(made.uses.resource),
          context: contextFields(made.uses.context, flat),
        };
      else freeSlots.push(id);
    }
    slices.set(key, slice);
    return slice;
  }

  function authorize(request: CedarRequest): cedar.AuthorizationAnswer {
    const slice = slicing ? sliceFor(request) : whole;
    const principalMatters = slice.uses.principal;
    const action = { type: 'Action', id: request.tool };
    const resource = {
      type: 'Asset',
      id: request.asset.kind === 'none' ? 'none' : `${request.asset.kind}:${request.asset.name}`,
    };
    const context: Record<string, cedar.CedarValueJson> = {};
    for (const field of slice.context) context[field.name] = field.read(request);
    const entities: cedar.EntityJson[] = [];
    if (slice.entities) {
      const server = request.tool.split('.')[0] ?? '';
      entities.push({
        uid: action,
        attrs: {},
        parents: [
          { type: 'Action', id: request.tier },
          { type: 'Action', id: `${server}.*` },
        ],
      });
    }
    if (slice.resourceEntity) {
      const attrs: Record<string, cedar.CedarValueJson> = {};
      for (const attr of slice.resourceAttrs) attrs[attr] = resourceLeaves[attr]!(request);
      entities.push({ uid: resource, attrs, parents: [] });
    }
    const principal = { type: 'Run', id: request.runId };
    const call = { principal, action, resource, preparsedPolicySetId: slice.id, context, entities };
    if (cacheSize <= 0) return cedar.statefulIsAuthorized(call);
    // A decision is a pure function of the policy set and of exactly what the engine is sent, so the
    // key is the whole request as sent (JSON of plain values built above, injective) and the slice it
    // went to (its tier, autonomy level, tier source and tool); the principal only when some policy reads
    // or constrains it. The
    // cache belongs to this policy set: a changed policy is a new set with an empty cache.
    const key = JSON.stringify([
      slice.key,
      principalMatters ? principal : null,
      action,
      resource,
      context,
      entities,
    ]);
    if (key.length > MAX_CACHE_KEY) return cedar.statefulIsAuthorized(call);
    const cached = cache.get(key);
    if (cached) {
      hits++;
      return cached;
    }
    misses++;
    const answer = cedar.statefulIsAuthorized(call);
    if (answer.type !== 'success') return answer;
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(key, deepFreeze(answer));
    return answer;
  }

  function decideOnce(request: CedarRequest): CedarVerdict {
    const answer = authorize(request);
    if (answer.type === 'failure') {
      const reason = `policy evaluation failed: ${answer.errors.map((e) => e.message).join('; ')}`;
      return { type: 'deny', reasons: [{ policy: 'evaluation-error', reason }], approvers: 1 };
    }
    const { decision, diagnostics } = answer.response;
    // Cedar skips a policy that errors; a skipped forbid could let a call through, so any error denies.
    if (diagnostics.errors.length > 0) {
      const reasons = diagnostics.errors
        .map((failed) => ({
          policy: failed.policyId,
          reason: `policy ${byId.get(failed.policyId)?.source ?? failed.policyId} failed to evaluate: ${failed.error.message}`,
        }))
        .sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
      return { type: 'deny', reasons, approvers: 1 };
    }
    // Cedar's determining set has no order: sort by id so a decision's text is reproducible (replay).
    const determining = diagnostics.reason
      .flatMap((id) => {
        const meta = byId.get(id);
        return meta ? [meta] : [];
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const reasons = determining.map((meta) => ({ policy: meta.id, reason: meta.reason }));
    if (decision === 'allow') return { type: 'allow', reasons, approvers: 1 };
    if (determining.length === 0)
      return {
        type: 'deny',
        reasons: [{ policy: 'default-deny', reason: `no policy permits ${request.tool}` }],
        approvers: 1,
      };
    const hard = determining.filter((meta) => meta.onDeny === 'deny');
    if (hard.length > 0)
      return {
        type: 'deny',
        reasons: hard.map((meta) => ({ policy: meta.id, reason: meta.reason })),
        approvers: 1,
      };
    if (determining.some((meta) => meta.onDeny === 'suggest'))
      return { type: 'suggest', reasons, approvers: 1 };
    return {
      type: 'require_approval',
      reasons,
      approvers: Math.max(...determining.map((meta) => meta.approvers)),
    };
  }

  return {
    version,
    policies: [...byId.values()],
    cacheStats: () => ({ hits, misses, size: cache.size }),
    explain(request) {
      const answer = authorize(request);
      if (answer.type === 'failure')
        return {
          decision: 'failure',
          reasons: [],
          errors: answer.errors.map((e) => ({ policy: '', message: e.message })),
        };
      const { decision, diagnostics } = answer.response;
      return {
        decision,
        reasons: [...diagnostics.reason].sort(),
        errors: diagnostics.errors
          .map((failed) => ({ policy: failed.policyId, message: failed.error.message }))
          .sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0)),
      };
    },
    evaluate(request) {
      const verdict = decideOnce(request);
      if (verdict.type !== 'require_approval' || request.approval.granted) return verdict;
      // Ask a human only when their approval would let the call run.
      const approved = decideOnce({
        ...request,
        approval: { granted: true, approvers: verdict.approvers },
      });
      if (approved.type === 'allow') return verdict;
      return approved.type === 'deny'
        ? approved
        : { type: 'deny', reasons: [...verdict.reasons, ...approved.reasons], approvers: 1 };
    },
  };
}
