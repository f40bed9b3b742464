import { unsupported } from './unsupported.js';

/** Values of the `%name%` placeholders rules leave to the operator (`lab.sigma.placeholders` in warden.yaml). */
export type Placeholders = Readonly<Record<string, readonly string[]>>;

/** What compiling a rule may draw on beyond the rule itself. */
export interface CompileOptions {
  placeholders?: Placeholders;
}

const placeholderPattern = /%([A-Za-z0-9_.-]+)%/g;

/**
 * The values of an `expand` entry with every `%name%` replaced, one value per combination of the
 * placeholders' values (as pySigma's value-list placeholder transformation). A placeholder with no
 * configured value makes the rule unsupported, naming the placeholder and the setting to fill.
 */
export function expandPlaceholders(
  key: string,
  values: unknown[],
  placeholders: Placeholders = {},
): unknown[] {
  const missing = new Set<string>();
  const expanded = values.flatMap((value) => {
    if (typeof value !== 'string') return [value];
    let variants = [''];
    let last = 0;
    for (const match of value.matchAll(placeholderPattern)) {
      const name = match[1] as string;
      const replacements = Object.hasOwn(placeholders, name) ? (placeholders[name] ?? []) : [];
      if (replacements.length === 0) missing.add(name);
      const before = value.slice(last, match.index);
      variants = variants.flatMap((prefix) => replacements.map((text) => `${prefix}${before}${text}`));
      last = (match.index ?? 0) + match[0].length;
    }
    return variants.map((prefix) => `${prefix}${value.slice(last)}`);
  });
  if (missing.size > 0) {
    const names = [...missing].map((name) => `%${name}%`).join(', ');
    unsupported(
      `${key}: placeholder ${names} has no values (set lab.sigma.placeholders.<name> in warden.yaml)`,
    );
  }
  return expanded;
}
