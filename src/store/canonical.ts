import * as crypto from 'node:crypto';
import { InputError } from '../errors.js';

/**
 * RFC 8785 (JCS) canonical JSON of a value; throws InputError for values JSON cannot represent.
 *
 * Written out rather than taken from the `canonicalize` package because it sits on the audit
 * append and verify paths (several times faster); test/store/canonical.test.ts checks it against
 * that package on generated values. Keys sort by UTF-16 code units (JCS §3.2.3, the default sort);
 * strings and numbers are written by JSON.stringify, which is exactly JCS's serialisation of them.
 */
export function canonicalJson(value: unknown): string {
  const text = write(value, 0);
  if (text === undefined)
    throw new InputError(`value of type ${typeof value} cannot be written as canonical JSON`);
  return text;
}

const MAX_DEPTH = 1000;

function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new InputError(`${value} cannot be written as canonical JSON`);
      return JSON.stringify(value);
    case 'object':
      break;
    case 'bigint':
      throw new InputError('a BigInt cannot be written as canonical JSON');
    default:
      // undefined, functions and symbols have no JSON form: dropped from objects, null in arrays.
      return undefined;
  }
  if (value === null) return 'null';
  if (depth > MAX_DEPTH) throw new InputError(`value nests deeper than ${MAX_DEPTH} levels (or is cyclic)`);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), depth + 1);
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ',';
      text += write(value[index], depth + 1) ?? 'null';
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let text = '{';
  for (const key of keys) {
    const item = write(record[key], depth + 1);
    if (item === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${JSON.stringify(key)}:${item}`;
  }
  return `${text}}`;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return oneShot
    ? oneShot('sha256', text, 'hex')
    : crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256HexOfBytes(bytes: Uint8Array): string {
  return oneShot ? oneShot('sha256', bytes, 'hex') : crypto.createHash('sha256').update(bytes).digest('hex');
}

// crypto.hash (Node >= 20.12) hashes a string in one call, several times faster than a Hash object.
const oneShot = (
  crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }
).hash;
