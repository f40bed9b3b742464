import type { TextEncoding } from './encode.js';
import type { TimePart } from './time.js';
import { unsupported } from './unsupported.js';

/** The modifiers of one field entry, with pySigma's long aliases folded to their short names. */
export type Modifiers = ReadonlySet<string>;

const aliases: Record<string, string> = { ignorecase: 'i', multiline: 'm', dotall: 's' };

const knownModifiers = new Set([
  'contains',
  'startswith',
  'endswith',
  'all',
  'neq',
  're',
  'i',
  'm',
  's',
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'wide',
  'utf16',
  'windash',
  'cidr',
  'exists',
  'lt',
  'lte',
  'gt',
  'gte',
  'cased',
  'fieldref',
  'expand',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
]);

const positionModifiers = ['contains', 'startswith', 'endswith'];
const comparisons = ['lt', 'lte', 'gt', 'gte'];
const timeParts: TimePart[] = ['minute', 'hour', 'day', 'week', 'month', 'year'];
/** Modifiers that make a value something other than a literal (a regex, a range, a field name…). */
export const valueKinds = ['re', 'cidr', 'exists', 'fieldref', ...comparisons, ...timeParts];
const transforms = ['base64', 'base64offset', 'utf16le', 'utf16be', 'wide', 'utf16', 'windash'];

/** Reads a modifier chain, reporting unknown modifiers and combinations that would silently drop one. */
export function parseModifiers(key: string, list: string[]): Modifiers {
  for (const modifier of list) {
    if (!knownModifiers.has(aliases[modifier] ?? modifier))
      unsupported(`${key}: unknown modifier ${modifier}`);
  }
  const modifiers = new Set(list.map((modifier) => aliases[modifier] ?? modifier));
  const count = (names: string[]) => names.filter((name) => modifiers.has(name)).length;
  const kind = valueKinds.find((name) => modifiers.has(name));
  if (count(positionModifiers) > 1 || count(valueKinds) > 1 || count(['base64', 'base64offset']) > 1)
    unsupported(`${key}: conflicting modifiers`);
  if (count(['utf16le', 'utf16be', 'wide', 'utf16']) > 1) unsupported(`${key}: conflicting encodings`);
  if (kind && count(transforms) > 0)
    unsupported(`${key}: ${kind} cannot be combined with encodings or windash`);
  // A regex is searched anywhere in the value, so contains/startswith/endswith change nothing for it.
  if (kind && kind !== 'fieldref' && kind !== 're' && count(positionModifiers) > 0)
    unsupported(`${key}: ${kind} cannot be combined with contains/startswith/endswith`);
  if (!modifiers.has('re') && count(['i', 'm', 's']) > 0) unsupported(`${key}: i, m and s only apply to re`);
  return modifiers;
}

/** The text encoding the utf16/wide modifiers ask for. */
export function encodingOf(modifiers: Modifiers): TextEncoding {
  if (modifiers.has('utf16le') || modifiers.has('wide')) return 'utf16le';
  if (modifiers.has('utf16be')) return 'utf16be';
  if (modifiers.has('utf16')) return 'utf16';
  return 'utf8';
}

/** The comparison modifier of a chain, if any. */
export function comparisonOf(modifiers: Modifiers): 'lt' | 'lte' | 'gt' | 'gte' | undefined {
  return comparisons.find((name) => modifiers.has(name)) as 'lt' | 'lte' | 'gt' | 'gte' | undefined;
}

/** The time-part modifier of a chain, if any. */
export function timePartOf(modifiers: Modifiers): TimePart | undefined {
  return timeParts.find((name) => modifiers.has(name));
}
