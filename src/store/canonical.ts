import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { InputError } from '../errors.js';

// canonicalize is CommonJS but declares an ESM default export, so under NodeNext its types and runtime disagree.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** RFC 8785 (JCS) canonical JSON of a value; throws InputError for values JSON cannot represent. */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new InputError(`value cannot be written as canonical JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (text === undefined)
    throw new InputError(`value of type ${typeof value} cannot be written as canonical JSON`);
  return text;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
