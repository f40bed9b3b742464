import { compileCidr } from './cidr.js';
import { base64, base64Offsets, encodeText, expandWindash, type TextEncoding } from './encode.js';
import { anyShape } from './literals.js';
import { comparisonOf, encodingOf, type Modifiers, parseModifiers, timePartOf } from './modifiers.js';
import {
  type GlobShape,
  type GlobToken,
  parseGlob,
  plainText,
  type StringTest,
  shapeGlob,
} from './pattern.js';
import { type CompileOptions, expandPlaceholders } from './placeholders.js';
import { compileSigmaRegex } from './regex.js';
import { parseEventTime, timePart } from './time.js';
import { unsupported } from './unsupported.js';
import type { EventView } from './view.js';

/** A compiled test over one event. */
export type Predicate = (view: EventView) => boolean;

const comparisons = {
  lt: (a: number, b: number) => a < b,
  lte: (a: number, b: number) => a <= b,
  gt: (a: number, b: number) => a > b,
  gte: (a: number, b: number) => a >= b,
};

/** `wide`/`utf16*` without base64: the value as the characters of its UTF-16 bytes (ASCII only, as pySigma). */
function wideTokens(key: string, tokens: GlobToken[], encoding: TextEncoding): GlobToken[] {
  const widened = tokens.map((token): GlobToken => {
    if (token.kind !== 'text') return token;
    if ([...token.text].some((char) => char.charCodeAt(0) > 0x7f))
      unsupported(`${key}: wide/utf16 of a non-ASCII value`);
    const chars = [...token.text].map((char) => (encoding === 'utf16be' ? `\u0000${char}` : `${char}\u0000`));
    return { kind: 'text', text: chars.join('') };
  });
  return encoding === 'utf16' ? [{ kind: 'text', text: '\ufeff' }, ...widened] : widened;
}

/** The glob variants one string value stands for once encodings, windash and the position modifier apply. */
function valueGlobs(key: string, value: string, modifiers: Modifiers): GlobToken[][] {
  let variants: GlobToken[][] = [parseGlob(value)];
  const encoding = encodingOf(modifiers);
  if (modifiers.has('base64') || modifiers.has('base64offset')) {
    const text = plainText(variants[0] as GlobToken[]);
    if (text === undefined) unsupported(`${key}: base64 of a value with wildcards`);
    const bytes = encodeText(text, encoding);
    const encoded = modifiers.has('base64offset') ? base64Offsets(bytes) : [base64(bytes)];
    variants = encoded.map((text) => [{ kind: 'text', text }]);
  } else if (encoding !== 'utf8') variants = [wideTokens(key, variants[0] as GlobToken[], encoding)];
  if (modifiers.has('windash')) variants = variants.flatMap(expandWindash);
  const many: GlobToken = { kind: 'many' };
  if (modifiers.has('contains')) return variants.map((tokens) => [many, ...tokens, many]);
  if (modifiers.has('startswith')) return variants.map((tokens) => [...tokens, many]);
  if (modifiers.has('endswith')) return variants.map((tokens) => [many, ...tokens]);
  return variants;
}

/** Compiles one string-like value (string, number, boolean) to the shapes of its variants. */
export function valueShapes(key: string, value: unknown, modifiers: Modifiers): GlobShape[] {
  if (typeof value === 'object' && value !== null)
    unsupported(`${key}: nested value ${JSON.stringify(value)}`);
  const text = typeof value === 'string' ? value : String(value);
  const cased = modifiers.has('cased');
  return valueGlobs(key, text, modifiers).map((tokens) => shapeGlob(tokens, cased));
}

/** One test per value (for `all`), or one grouped test for any of the values. */
function stringTests(key: string, values: unknown[], modifiers: Modifiers): StringTest[] {
  if (modifiers.has('all')) return values.map((value) => anyShape(valueShapes(key, value, modifiers)));
  return [anyShape(values.flatMap((value) => valueShapes(key, value, modifiers)))];
}

function combine<T>(tests: Array<(input: T) => boolean>, all: boolean): (input: T) => boolean {
  if (tests.length === 1) return tests[0] as (input: T) => boolean;
  if (all) return (input) => tests.every((test) => test(input));
  return (input) => tests.some((test) => test(input));
}

/** Keyword search: values matched anywhere in any of the event's values (substring unless a modifier says otherwise). */
function compileKeywords(key: string, values: unknown[], modifiers: Modifiers): Predicate {
  const all = modifiers.has('all');
  if (modifiers.has('re')) {
    const regexes = values.map((value) => compileSigmaRegex(String(value), regexFlags(modifiers)));
    const tests = regexes.map(
      (regex) => (view: EventView) => view.allText().some((text) => regex.test(text)),
    );
    return all ? (view) => tests.every((test) => test(view)) : (view) => tests.some((test) => test(view));
  }
  const cased = modifiers.has('cased');
  const positional = ['contains', 'startswith', 'endswith'].some((name) => modifiers.has(name));
  const effective = positional ? modifiers : new Set([...modifiers, 'contains']);
  const perValue = values.map((value) => valueShapes(key, value, effective));
  const groups = all ? perValue : [perValue.flat()];
  const tests = groups.map((shapes): Predicate => {
    const test = anyShape(shapes);
    // Substrings never contain the separator, so one search over all values joined is the same test.
    if (!cased && shapes.every((shape) => shape.kind === 'contains'))
      return (view) => test(view.joinedLower());
    return (view) => (cased ? view.allText() : view.allLower()).some(test);
  });
  if (tests.length === 1) return tests[0] as Predicate;
  return all ? (view) => tests.every((test) => test(view)) : (view) => tests.some((test) => test(view));
}

function regexFlags(modifiers: Modifiers): { i: boolean; m: boolean; s: boolean } {
  return { i: modifiers.has('i'), m: modifiers.has('m'), s: modifiers.has('s') };
}

function booleanValue(key: string, value: unknown): boolean {
  if (value === true || value === 'true' || value === 'yes') return true;
  if (value === false || value === 'false' || value === 'no') return false;
  return unsupported(`${key}: exists expects true or false, got ${JSON.stringify(value)}`);
}

/** Compiles a value test over the field's text for the special modifiers (re, cidr, comparisons, fieldref). */
function specialTests(
  key: string,
  field: string,
  values: unknown[],
  modifiers: Modifiers,
): Predicate | undefined {
  const all = modifiers.has('all');
  if (modifiers.has('re')) {
    const regexes = values.map((value) => compileSigmaRegex(String(value), regexFlags(modifiers)));
    const test = combine(
      regexes.map((regex) => (text: string) => regex.test(text)),
      all,
    );
    return (view) => {
      const text = view.text(field);
      return text !== undefined && test(text);
    };
  }
  if (modifiers.has('cidr')) {
    const test = combine(
      values.map((value) => compileCidr(String(value))),
      all,
    );
    return (view) => {
      const text = view.text(field);
      return text !== undefined && test(text);
    };
  }
  const comparison = comparisonOf(modifiers);
  if (comparison) {
    const compare = comparisons[comparison];
    const bounds = values.map((value) => {
      const number = Number(value);
      if (typeof value === 'boolean' || value === null || Number.isNaN(number))
        unsupported(`${key}: ${comparison} needs a number`);
      return number;
    });
    const test = combine(
      bounds.map((bound) => (text: string) => text.trim() !== '' && compare(Number(text), bound)),
      all,
    );
    return (view) => {
      const text = view.text(field);
      return text !== undefined && test(text);
    };
  }
  const part = timePartOf(modifiers);
  if (part) {
    const wanted = values.map((value) => {
      const number = Number(value);
      if (typeof value === 'boolean' || value === null || !Number.isInteger(number))
        unsupported(`${key}: ${part} needs a whole number`);
      return number;
    });
    const test = combine(
      wanted.map((number) => (date: Date) => timePart(date, part) === number),
      all,
    );
    return (view) => {
      const date = parseEventTime(view.value(field));
      return date !== undefined && test(date);
    };
  }
  if (modifiers.has('fieldref')) return compileFieldref(key, field, values, modifiers);
  return undefined;
}

function compileFieldref(key: string, field: string, values: unknown[], modifiers: Modifiers): Predicate {
  const cased = modifiers.has('cased');
  const read = (view: EventView, name: string) => (cased ? view.text(name) : view.lower(name));
  const relation: (left: string, right: string) => boolean = modifiers.has('contains')
    ? (left, right) => left.includes(right)
    : modifiers.has('startswith')
      ? (left, right) => left.startsWith(right)
      : modifiers.has('endswith')
        ? (left, right) => left.endsWith(right)
        : (left, right) => left === right;
  const tests = values.map((value) => {
    if (typeof value !== 'string') unsupported(`${key}: fieldref expects a field name`);
    return (view: EventView) => {
      const left = read(view, field);
      const right = read(view, value);
      return left !== undefined && right !== undefined && relation(left, right);
    };
  });
  if (tests.length === 1) return tests[0] as Predicate;
  return modifiers.has('all')
    ? (view) => tests.every((test) => test(view))
    : (view) => tests.some((test) => test(view));
}

/** Compiles one `field|modifier|…: value(s)` entry of a selection. An empty field name is a keyword search. */
export function compileField(key: string, rawValue: unknown, options: CompileOptions = {}): Predicate {
  const [field = '', ...modifierList] = key.split('|');
  const modifiers = parseModifiers(key, modifierList);
  const values = Array.isArray(rawValue) ? rawValue : [rawValue];
  const expanded = modifiers.has('expand') ? expandPlaceholders(key, values, options.placeholders) : values;
  const predicate = compileFieldTest(key, field, expanded, modifiers);
  if (!modifiers.has('neq')) return predicate;
  return (view) => !predicate(view);
}

function compileFieldTest(key: string, field: string, values: unknown[], modifiers: Modifiers): Predicate {
  if (values.length === 0) unsupported(`${key}: empty value list`);
  if (field === '') return compileKeywords(key, values, modifiers);
  if (modifiers.has('exists')) {
    const expected = booleanValue(key, values[0]);
    return (view) => (view.value(field) !== undefined && view.value(field) !== null) === expected;
  }
  const special = specialTests(key, field, values, modifiers);
  if (special) return special;
  const all = modifiers.has('all');
  const nullWanted = values.some((value) => value === null);
  const present = values.filter((value) => value !== null);
  if (all && nullWanted) unsupported(`${key}: all with a null value`);
  const cased = modifiers.has('cased');
  const test = present.length > 0 ? combine(stringTests(key, present, modifiers), all) : undefined;
  return (view) => {
    const text = cased ? view.text(field) : view.lower(field);
    if (text === undefined) return nullWanted;
    return test ? test(text) : false;
  };
}
