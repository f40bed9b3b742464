import { type ConditionNode, expandTarget, parseCondition } from './condition.js';
import { compileField, type Predicate } from './field.js';
import type { CompileOptions } from './placeholders.js';
import { unsupported } from './unsupported.js';
import type { EventView } from './view.js';

export function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function allOf(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0] as Predicate;
  return (view) => {
    for (const predicate of predicates) if (!predicate(view)) return false;
    return true;
  };
}

function anyOf(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0] as Predicate;
  return (view) => {
    for (const predicate of predicates) if (predicate(view)) return true;
    return false;
  };
}

/** A map selection: every field entry must hold. */
function compileMap(name: string, map: Record<string, unknown>, options: CompileOptions): Predicate {
  const entries = Object.entries(map);
  if (entries.length === 0) unsupported(`selection ${name} is empty`);
  return allOf(entries.map(([key, value]) => compileField(key, value, options)));
}

/** A selection: a map, a list of maps (any), or a list of plain keywords (any, anywhere in the event). */
export function compileSelection(name: string, definition: unknown, options: CompileOptions = {}): Predicate {
  if (isMap(definition)) return compileMap(name, definition, options);
  const items = Array.isArray(definition) ? definition : [definition];
  if (items.length === 0) unsupported(`selection ${name} is empty`);
  const maps = items.filter(isMap);
  const keywords = items.filter((item) => !isMap(item));
  if (keywords.some((item) => Array.isArray(item))) unsupported(`selection ${name} nests lists`);
  const predicates = maps.map((map) => compileMap(name, map, options));
  if (keywords.length > 0) predicates.push(compileField('', keywords, options));
  return anyOf(predicates);
}

function compileNode(node: ConditionNode, selections: Map<string, Predicate>): Predicate {
  switch (node.type) {
    case 'and':
      return allOf(node.operands.map((operand) => compileNode(operand, selections)));
    case 'or':
      return anyOf(node.operands.map((operand) => compileNode(operand, selections)));
    case 'not': {
      const operand = compileNode(node.operand, selections);
      return (view) => !operand(view);
    }
    case 'selection': {
      const predicate = selections.get(node.name);
      if (!predicate) return unsupported(`condition names an undefined selection ${node.name}`);
      return predicate;
    }
    case 'quantified': {
      const names = expandTarget(node.pattern, [...selections.keys()]);
      if (names.length === 0) return unsupported(`condition target ${node.pattern} matches no selection`);
      const predicates = names.map((name) => selections.get(name) as Predicate);
      if (node.quantifier === 'all') return allOf(predicates);
      if (node.quantifier === 1) return anyOf(predicates);
      const needed = node.quantifier;
      return (view: EventView) => {
        let count = 0;
        for (const predicate of predicates) if (predicate(view) && ++count >= needed) return true;
        return false;
      };
    }
  }
}

/** Compiles a rule's `detection` block (selections plus condition) to one predicate. */
export function compileDetection(
  detection: Record<string, unknown>,
  options: CompileOptions = {},
): Predicate {
  if ('timeframe' in detection) unsupported('timeframe (aggregation over time) is not supported');
  const selections = new Map<string, Predicate>();
  for (const [name, definition] of Object.entries(detection)) {
    if (name === 'condition') continue;
    selections.set(name, compileSelection(name, definition, options));
  }
  const condition = detection.condition;
  const conditions = Array.isArray(condition) ? condition : [condition];
  if (conditions.length === 0 || conditions.some((item) => typeof item !== 'string'))
    unsupported('condition must be a string or a list of strings');
  return anyOf(conditions.map((text) => compileNode(parseCondition(text as string), selections)));
}
