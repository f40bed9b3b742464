import { type ConditionNode, expandTarget, parseCondition } from './condition.js';
import { isMap } from './detection.js';
import { valueShapes } from './field.js';
import { parseModifiers, valueKinds } from './modifiers.js';
import type { SigmaRule } from './rule.js';

/**
 * A literal that must sit in one field's lowercased text for a rule to be able to match. The rule
 * prefilter (ruleset.ts) tests needles once per event and only evaluates rules with a needle present.
 */
export interface Needle {
  field: string;
  kind: 'equals' | 'startswith' | 'endswith' | 'contains';
  /** Lowercase, as the rule compares it with the field's lowercased text. */
  text: string;
}

/** Needles of which at least one must be present, or undefined when the rule must always be evaluated. */
type Requirement = Needle[] | undefined;

/** Rough cost of testing a needle set, to pick the cheapest requirement an `and` offers. */
const kindCost = { equals: 1, startswith: 2, endswith: 2, contains: 8 };

/** Fields the logsource routing already decides on, and which nearly every event carries: poor needles. */
const routedFields = new Set(['EventID', 'Channel', 'Provider_Name']);

function cost(needles: Needle[]): number {
  let total = 0;
  for (const needle of needles) total += kindCost[needle.kind] * (routedFields.has(needle.field) ? 100 : 1);
  return total;
}

/** Of several sufficient requirements (all must hold), the cheapest one that is indexable. */
function cheapest(requirements: Requirement[]): Requirement {
  let best: Needle[] | undefined;
  for (const requirement of requirements)
    if (requirement && (!best || cost(requirement) < cost(best))) best = requirement;
  return best;
}

/** Of alternatives (one must hold), all of their needles; any alternative without needles makes the whole unindexable. */
function union(requirements: Requirement[]): Requirement {
  const needles: Needle[] = [];
  for (const requirement of requirements) {
    if (!requirement) return undefined;
    needles.push(...requirement);
  }
  return needles;
}

/** Entries whose match does not require a literal: negated, non-literal or placeholder values. */
const unindexableModifiers = [...valueKinds, 'neq', 'expand'];

/**
 * The needles one `field|modifiers: values` entry requires: its field's lowercased text must hold one
 * of its values' literals. Keyword searches, null values, negations and non-literal tests are unindexable.
 */
function entryRequirement(key: string, rawValue: unknown): Requirement {
  const [field = '', ...modifierList] = key.split('|');
  if (field === '') return undefined;
  const modifiers = parseModifiers(key, modifierList);
  if (unindexableModifiers.some((name) => modifiers.has(name))) return undefined;
  const values = Array.isArray(rawValue) ? rawValue : [rawValue];
  if (values.length === 0 || values.some((value) => value === null || typeof value === 'object'))
    return undefined;
  // With `all` every value must hold, so the first one's literals are required; otherwise any value's.
  const required = modifiers.has('all') ? values.slice(0, 1) : values;
  const cased = modifiers.has('cased');
  const needles: Needle[] = [];
  for (const value of required) {
    for (const shape of valueShapes(key, value, modifiers)) {
      if (shape.kind === 'any' || shape.kind === 'other') return undefined;
      // Without `cased` the shape is already the lowercase text the rule compares with the lowercased value.
      // A `cased` literal is lowercased here, which implies its match only for ASCII (no final sigma and the like).
      if (cased && [...shape.text].some((char) => char.charCodeAt(0) > 0x7f)) return undefined;
      const text = cased ? shape.text.toLowerCase() : shape.text;
      if (shape.kind !== 'equals' && text === '') return undefined;
      needles.push({ field, kind: shape.kind, text });
    }
  }
  return needles;
}

/** A selection's requirement: for a map, the cheapest of its entries; for a list, the union of its items. */
function selectionRequirement(definition: unknown): Requirement {
  if (isMap(definition))
    return cheapest(Object.entries(definition).map(([key, value]) => entryRequirement(key, value)));
  if (!Array.isArray(definition) || definition.length === 0) return undefined;
  if (definition.some((item) => !isMap(item))) return undefined;
  return union(definition.map(selectionRequirement));
}

function nodeRequirement(node: ConditionNode, selections: Map<string, Requirement>): Requirement {
  switch (node.type) {
    case 'and':
      return cheapest(node.operands.map((operand) => nodeRequirement(operand, selections)));
    case 'or':
      return union(node.operands.map((operand) => nodeRequirement(operand, selections)));
    case 'not':
      return undefined;
    case 'selection':
      return selections.get(node.name);
    case 'quantified': {
      const names = expandTarget(node.pattern, [...selections.keys()]);
      if (names.length === 0) return undefined;
      const requirements = names.map((name) => selections.get(name));
      // all of: each must hold; 1 of / N of: at least one must hold.
      return node.quantifier === 'all' ? cheapest(requirements) : union(requirements);
    }
  }
}

/**
 * The needles of which at least one must occur in an event for the rule's detection to match it, or
 * undefined when the condition can hold without any literal (a top-level `not`, regexes, keywords…).
 * Only called on rules that compiled, so the detection is well formed.
 */
export function ruleNeedles(rule: SigmaRule): Needle[] | undefined {
  const detection = rule.detection;
  const selections = new Map<string, Requirement>();
  for (const [name, definition] of Object.entries(detection)) {
    if (name === 'condition') continue;
    selections.set(name, selectionRequirement(definition));
  }
  const condition = detection.condition;
  const conditions = (Array.isArray(condition) ? condition : [condition]) as string[];
  const requirement = union(conditions.map((text) => nodeRequirement(parseCondition(text), selections)));
  return requirement && requirement.length > 0 ? requirement : undefined;
}
