import { unsupported } from './unsupported.js';

/**
 * Compiles a Sigma `re` value (PCRE flavour) to a JavaScript RegExp. Leading inline flags such as
 * `(?i)` become RegExp flags, `(?P<name>` becomes `(?<name>`, `\A` and `\Z` become anchors.
 */
export function compileSigmaRegex(source: string, flags: { i: boolean; m: boolean; s: boolean }): RegExp {
  let pattern = source;
  const modes = new Set<string>();
  if (flags.i) modes.add('i');
  if (flags.m) modes.add('m');
  if (flags.s) modes.add('s');
  const inline = /^\(\?([imsx]+)\)/.exec(pattern);
  if (inline) {
    for (const mode of inline[1] as string) {
      if (mode === 'x') unsupported(`regex uses the verbose flag (?x): ${source}`);
      modes.add(mode);
    }
    pattern = pattern.slice(inline[0].length);
  }
  pattern = translateEscapes(pattern, source);
  try {
    return new RegExp(pattern, [...modes].join(''));
  } catch (error) {
    return unsupported(`regex does not compile in JavaScript: ${source} (${(error as Error).message})`);
  }
}

/**
 * Rewrites PCRE-only syntax outside escapes: `\A` → `^`, `\Z`/`\z` → `$`, `(?P<name>` → `(?<name>`,
 * `(?P=name)` → `\k<name>`.
 * Escapes are read pairwise, so `\\A` (a literal backslash, then A, as in `\\AppData`) stays as it is.
 */
function translateEscapes(pattern: string, source: string): string {
  let out = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index] as string;
    if (char === '\\') {
      const next = pattern[index + 1] ?? '';
      out += next === 'A' ? '^' : next === 'Z' || next === 'z' ? '$' : `\\${next}`;
      index += 1;
      continue;
    }
    const backReference = char === '(' ? /^\(\?P=(\w+)\)/.exec(pattern.slice(index)) : null;
    if (backReference) {
      out += `\\k<${backReference[1]}>`;
      index += backReference[0].length - 1;
      continue;
    }
    if (char === '(' && pattern.startsWith('(?P<', index)) {
      out += '(?<';
      index += 3;
      continue;
    }
    if (char === '(' && /^\(\?[imsx-]+[:)]/.test(pattern.slice(index)))
      unsupported(`regex uses inline flags inside the pattern: ${source}`);
    out += char;
  }
  return out;
}
