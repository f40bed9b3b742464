import { type GlobShape, type StringTest, shapeTest } from './pattern.js';

/** startswith/endswith lists shorter than this are tested literal by literal; longer ones through a first/last-character index. */
const indexThreshold = 6;

/** Two or more substrings already go through one regex alternation (faster than includes() per literal, measured). */
const containsThreshold = 2;

function byCharCode(texts: string[], position: (text: string) => number): Map<number, string[]> {
  const index = new Map<number, string[]>();
  for (const text of texts) {
    const code = text.charCodeAt(position(text));
    const list = index.get(code);
    if (list) list.push(text);
    else index.set(code, [text]);
  }
  return index;
}

function endsWithAny(texts: string[]): StringTest {
  if (texts.includes('')) return () => true;
  const index = byCharCode(texts, (text) => text.length - 1);
  return (value) => {
    const list = index.get(value.charCodeAt(value.length - 1));
    if (list) for (const text of list) if (value.endsWith(text)) return true;
    return false;
  };
}

function startsWithAny(texts: string[]): StringTest {
  if (texts.includes('')) return () => true;
  const index = byCharCode(texts, () => 0);
  return (value) => {
    const list = index.get(value.charCodeAt(0));
    if (list) for (const text of list) if (value.startsWith(text)) return true;
    return false;
  };
}

/** Any of several substrings: one regex alternation, which V8 scans faster than repeated includes() (measured on event payloads). */
function containsAny(texts: string[]): StringTest {
  if (texts.includes('')) return () => true;
  const regex = new RegExp(texts.map((text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'));
  return (value) => regex.test(value);
}

function loop(tests: StringTest[]): StringTest {
  if (tests.length === 1) return tests[0] as StringTest;
  return (value) => {
    for (const test of tests) if (test(value)) return true;
    return false;
  };
}

/** One test for "any of these shapes", grouping literals by kind so long lists cost one lookup or one pass. */
export function anyShape(shapes: GlobShape[]): StringTest {
  if (shapes.some((shape) => shape.kind === 'any')) return () => true;
  const groups = {
    equals: [] as string[],
    startswith: [] as string[],
    endswith: [] as string[],
    contains: [] as string[],
  };
  const tests: StringTest[] = [];
  for (const shape of shapes) {
    if (shape.kind === 'other' || shape.kind === 'any') tests.push(shapeTest(shape));
    else groups[shape.kind].push(shape.text);
  }
  const grouped: StringTest[] = [];
  if (groups.equals.length > 0) {
    const set = new Set(groups.equals);
    grouped.push(
      set.size === 1
        ? shapeTest({ kind: 'equals', text: groups.equals[0] as string })
        : (value) => set.has(value),
    );
  }
  for (const kind of ['startswith', 'endswith', 'contains'] as const) {
    const texts = groups[kind];
    if (texts.length === 0) continue;
    if (texts.length < (kind === 'contains' ? containsThreshold : indexThreshold)) {
      grouped.push(...texts.map((text) => shapeTest({ kind, text })));
      continue;
    }
    grouped.push(
      kind === 'startswith'
        ? startsWithAny(texts)
        : kind === 'endswith'
          ? endsWithAny(texts)
          : containsAny(texts),
    );
  }
  return loop([...grouped, ...tests]);
}
