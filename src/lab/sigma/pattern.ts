/** One piece of a Sigma string value: literal text, `*` (any run of characters) or `?` (one character). */
export type GlobToken = { kind: 'text'; text: string } | { kind: 'many' } | { kind: 'one' };

/** A test over one string, which is already lowercase when the pattern is case-insensitive. */
export type StringTest = (value: string) => boolean;

/**
 * Splits a Sigma string into literal text and wildcards. A backslash escapes `*`, `?` and itself;
 * before any other character it is a plain backslash (as pySigma reads rules).
 */
export function parseGlob(value: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  let text = '';
  const flush = () => {
    if (text) tokens.push({ kind: 'text', text });
    text = '';
  };
  for (let index = 0; index < value.length; index++) {
    const char = value[index] as string;
    if (char === '\\') {
      const next = value[index + 1];
      if (next === '*' || next === '?' || next === '\\') {
        text += next;
        index++;
      } else text += char;
    } else if (char === '*' || char === '?') {
      flush();
      tokens.push(char === '*' ? { kind: 'many' } : { kind: 'one' });
    } else text += char;
  }
  flush();
  return tokens;
}

/** Literal text of a glob, or undefined when it holds wildcards. */
export function plainText(tokens: GlobToken[]): string | undefined {
  if (tokens.some((token) => token.kind !== 'text')) return undefined;
  return tokens.map((token) => (token.kind === 'text' ? token.text : '')).join('');
}

/** Merges adjacent text and collapses runs of `*`. */
function normalise(tokens: GlobToken[]): GlobToken[] {
  const out: GlobToken[] = [];
  for (const token of tokens) {
    const last = out.at(-1);
    if (token.kind === 'text' && last?.kind === 'text')
      out[out.length - 1] = { kind: 'text', text: last.text + token.text };
    else if (token.kind === 'many' && last?.kind === 'many') continue;
    else out.push(token);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Matches text segments in order with indexOf; the first and last are anchored unless `*` surrounds them. */
function segmentTest(segments: string[], anchoredStart: boolean, anchoredEnd: boolean): StringTest {
  return (value) => {
    let position = 0;
    const last = segments.length - 1;
    for (let index = 0; index <= last; index++) {
      const segment = segments[index] as string;
      if (index === 0 && anchoredStart) {
        if (!value.startsWith(segment)) return false;
        position = segment.length;
      } else if (index === last && anchoredEnd) {
        return value.length - segment.length >= position && value.endsWith(segment);
      } else {
        const found = value.indexOf(segment, position);
        if (found < 0) return false;
        position = found + segment.length;
      }
    }
    return true;
  };
}

/** A glob reduced to one literal and how it must sit in the value, or a general test. */
export type GlobShape =
  | { kind: 'equals' | 'startswith' | 'endswith' | 'contains'; text: string }
  | { kind: 'any' }
  | { kind: 'other'; test: StringTest };

/** Reduces a glob to the cheapest shape: a literal compared by position, or an ordered indexOf / regex test. */
export function shapeGlob(raw: GlobToken[], cased: boolean): GlobShape {
  const tokens = normalise(
    cased
      ? raw
      : raw.map((token) =>
          token.kind === 'text' ? { kind: 'text', text: token.text.toLowerCase() } : token,
        ),
  );
  if (tokens.some((token) => token.kind === 'one')) {
    const source = tokens
      .map((token) => (token.kind === 'text' ? escapeRegex(token.text) : token.kind === 'many' ? '.*' : '.'))
      .join('');
    const regex = new RegExp(`^${source}$`, 's');
    return { kind: 'other', test: (value) => regex.test(value) };
  }
  const first = tokens[0];
  const last = tokens.at(-1);
  if (!first || !last) return { kind: 'equals', text: '' };
  const texts = tokens.flatMap((token) => (token.kind === 'text' ? [token.text] : []));
  if (texts.length === 0) return { kind: 'any' };
  const startsWithText = first.kind === 'text';
  const endsWithText = last.kind === 'text';
  if (texts.length === 1) {
    const text = texts[0] as string;
    if (startsWithText && endsWithText) return { kind: 'equals', text };
    if (startsWithText) return { kind: 'startswith', text };
    if (endsWithText) return { kind: 'endswith', text };
    return { kind: 'contains', text };
  }
  return { kind: 'other', test: segmentTest(texts, startsWithText, endsWithText) };
}

/** The test for one shape. */
export function shapeTest(shape: GlobShape): StringTest {
  switch (shape.kind) {
    case 'equals':
      return (value) => value === shape.text;
    case 'startswith':
      return (value) => value.startsWith(shape.text);
    case 'endswith':
      return (value) => value.endsWith(shape.text);
    case 'contains':
      return (value) => value.includes(shape.text);
    case 'any':
      return () => true;
    case 'other':
      return shape.test;
  }
}
