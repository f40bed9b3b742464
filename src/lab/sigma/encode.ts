import type { GlobToken } from './pattern.js';

/** Text encodings applied before base64, named as the Sigma modifiers name them. */
export type TextEncoding = 'utf8' | 'utf16le' | 'utf16be' | 'utf16';

/** The bytes of text in the given encoding; `utf16` is little-endian with a byte-order mark, as pySigma emits. */
export function encodeText(text: string, encoding: TextEncoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  const little = Buffer.from(text, 'utf16le');
  if (encoding === 'utf16le') return little;
  if (encoding === 'utf16') return Buffer.concat([Buffer.from([0xff, 0xfe]), little]);
  const big = Buffer.alloc(little.length);
  for (let index = 0; index + 1 < little.length; index += 2) {
    big[index] = little[index + 1] as number;
    big[index + 1] = little[index] as number;
  }
  return big;
}

/** `base64`: the plain encoding of the value. */
export function base64(bytes: Buffer): string {
  return bytes.toString('base64');
}

/**
 * `base64offset`: the three encodings of the value as it may sit at any offset inside a longer
 * encoded string, trimmed of the characters that depend on its neighbours.
 */
export function base64Offsets(bytes: Buffer): string[] {
  const startTrim = [0, 2, 3];
  const endTrim = [0, 3, 2];
  const variants: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift, 0x20), bytes]).toString('base64');
    const end = endTrim[(bytes.length + shift) % 3] as number;
    variants.push(encoded.slice(startTrim[shift] as number, encoded.length - end));
  }
  return variants;
}

/** The characters Windows command-line parsers accept in place of a leading `-` or `/`. */
export const windashCharacters = ['-', '/', '\u2013', '\u2014', '\u2015'];

const wordCharacter = /\w/;

/** Positions of option dashes: a `-` or `/` not preceded by a word character and followed by one. */
function dashPositions(text: string): number[] {
  const positions: number[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (char !== '-' && char !== '/') continue;
    const before = index > 0 ? (text[index - 1] as string) : '';
    const after = text[index + 1] ?? '';
    if (!wordCharacter.test(before) && wordCharacter.test(after)) positions.push(index);
  }
  return positions;
}

function expandText(text: string): string[] {
  let variants = [text];
  for (const position of dashPositions(text)) {
    variants = variants.flatMap((variant) =>
      windashCharacters.map((dash) => variant.slice(0, position) + dash + variant.slice(position + 1)),
    );
  }
  return variants;
}

/** `windash`: every combination of dash characters at each option position of the value. */
export function expandWindash(tokens: GlobToken[]): GlobToken[][] {
  let variants: GlobToken[][] = [[]];
  for (const token of tokens) {
    const options: GlobToken[] =
      token.kind === 'text' ? expandText(token.text).map((text) => ({ kind: 'text', text })) : [token];
    variants = variants.flatMap((prefix) => options.map((option) => [...prefix, option]));
  }
  return variants;
}
