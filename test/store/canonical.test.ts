import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { decodeJson, decodeText, encodeJson, encodeText } from '../../src/store/codec.js';
import { canonicalJson, sha256Hex } from '../../src/store/index.js';

const trickyStrings = [
  'plain',
  'nul\u0000inside',
  '\u0000',
  'escape char \uE000 itself',
  '\uE000e',
  '\uE0000 looks escaped',
  'lone high \uD800 surrogate',
  'lone low \uDC00',
  'trailing high \uDBFF',
  'pair 😀 ok',
  'héllo wörld ✓',
];

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
  });

  it('writes numbers and strings as RFC 8785 does', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 10, 'é', '\u000f'])).toBe(
      '[1e+21,1e-7,0.1,0,10,"é","\\u000f"]',
    );
  });

  it('gives the same text for equal values built in different key order', () => {
    expect(canonicalJson({ x: 1, y: [{ q: 1, p: 2 }] })).toBe(canonicalJson({ y: [{ p: 2, q: 1 }], x: 1 }));
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, undefined, 10n])(
    'rejects %s with an InputError',
    (value) => {
      expect(() => canonicalJson(value)).toThrow(InputError);
    },
  );
});

// The reference implementation of RFC 8785 the hand-written one must agree with.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

describe('canonicalJson against the canonicalize package', () => {
  it('agrees on any JSON value, including awkward strings, keys and numbers', () => {
    const awkwardString = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...trickyStrings));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        awkwardString,
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(awkwardString, tie('value'), { maxKeys: 6 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => canonicalJson(value) === canonicalize(value)),
      { numRuns: 300 },
    );
  });

  it('uses toJSON, drops undefined members and writes undefined array items as null', () => {
    const value = { when: new Date(0), gone: undefined, list: [undefined, 1] };
    expect(canonicalJson(value)).toBe('{"list":[null,1],"when":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson(value)).toBe(canonicalize(value));
  });

  it('refuses a cyclic value with an InputError instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(InputError);
  });
});

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vector', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('storage codec', () => {
  it.each(trickyStrings)('round-trips %j', (text) => {
    const encoded = encodeText(text);
    expect(encoded).not.toMatch(/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(decodeText(encoded)).toBe(text);
  });

  it('leaves ordinary strings untouched', () => {
    expect(encodeText('pair 😀 ok')).toBe('pair 😀 ok');
    expect(encodeJson({ a: ['x', 1] })).toBe('{"a":["x",1]}');
  });

  it('keeps distinct strings distinct', () => {
    const encoded = trickyStrings.map(encodeText);
    expect(new Set(encoded).size).toBe(trickyStrings.length);
  });

  it('round-trips keys and values in nested JSON, including a __proto__ key', () => {
    const value = JSON.parse('{"__proto__":{"k\\u0000":"v\\ud800"},"list":["\\u0000",{"\\ue000":1}]}');
    const text = encodeJson(value);
    expect(text).not.toContain('\\u0000');
    const decoded = decodeJson(text) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded).toEqual(value);
  });

  it('stores undefined as null and rejects what JSON cannot hold', () => {
    expect(encodeJson(undefined)).toBe('null');
    expect(() => encodeJson({ big: 1n })).toThrow(InputError);
  });
});
