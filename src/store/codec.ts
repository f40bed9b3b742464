/**
 * Reversible escaping of strings Postgres cannot store: U+0000 (rejected by `text` and `jsonb`) and
 * lone UTF-16 surrogates (rejected by `jsonb`, silently replaced in `text`). Tool results and alerts
 * are untrusted, so such a string must not be able to break a run or the audit trail.
 *
 * Scheme, applied to every string value and object key on the way in and undone on the way out:
 * U+E000 → U+E000 'e', U+0000 → U+E000 '0', lone surrogate → U+E000 'u' + 4 lower-case hex digits.
 */

import { InputError } from '../errors.js';

const ESCAPE = '\uE000';
const NEEDS_ESCAPE = /\uE000|\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPED = /\uE000(e|0|u[0-9a-f]{4})/g;
// JSON.stringify writes U+0000 and lone surrogates as \u escapes and U+E000 as itself.
const JSON_NEEDS_ESCAPE = /\\u0000|\\ud[89a-f]|\uE000/;

/** Escapes one string for storage. */
export function encodeText(text: string): string {
  return text.replace(NEEDS_ESCAPE, (char) => {
    if (char === ESCAPE) return `${ESCAPE}e`;
    if (char === '\0') return `${ESCAPE}0`;
    return `${ESCAPE}u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Undoes `encodeText`. */
export function decodeText(text: string): string {
  if (!text.includes(ESCAPE)) return text;
  return text.replace(ESCAPED, (_match, code: string) => {
    if (code === 'e') return ESCAPE;
    if (code === '0') return '\0';
    return String.fromCharCode(Number.parseInt(code.slice(1), 16));
  });
}

/** JSON text of `value` with every string escaped; `undefined` is stored as JSON null. */
export function encodeJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'null';
  } catch (error) {
    throw new InputError(`value cannot be stored as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!JSON_NEEDS_ESCAPE.test(text)) return text;
  return JSON.stringify(mapStrings(JSON.parse(text), encodeText));
}

/** Parses JSON text written by `encodeJson`. */
export function decodeJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return text.includes(ESCAPE) ? mapStrings(value, decodeText) : value;
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays data instead of becoming a prototype.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [map(key), mapStrings(item, map)]));
  }
  return value;
}
