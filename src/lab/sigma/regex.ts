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
  pattern = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\[Zz]/g, '$');
  if (/\(\?[imsx-]+[:)]/.test(pattern)) unsupported(`regex uses inline flags inside the pattern: ${source}`);
  try {
    return new RegExp(pattern, [...modes].join(''));
  } catch (error) {
    return unsupported(`regex does not compile in JavaScript: ${source} (${(error as Error).message})`);
  }
}
