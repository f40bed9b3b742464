/**
 * Bounds what one tool result costs in the model's context. The audit trail keeps the full
 * value; the model gets the same structure with long strings clipped and the longest arrays cut,
 * each cut announced beside it (`<key>Omitted`), so it can narrow its query instead of guessing.
 */

const MAX_STRING = 2000;

type Json = unknown;

function size(value: Json): number {
  return JSON.stringify(value)?.length ?? 0;
}

function clipStrings(value: Json): Json {
  if (typeof value === 'string')
    return value.length > MAX_STRING
      ? `${value.slice(0, MAX_STRING)}… [${value.length - MAX_STRING} characters cut]`
      : value;
  if (Array.isArray(value)) return value.map(clipStrings);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, clipStrings(item)]));
  return value;
}

interface ArraySite {
  parent: Record<string, Json>;
  key: string;
  items: Json[];
  chars: number;
}

/** The array under an object key that takes the most room, searched depth-first. */
function largestArray(value: Json, best: ArraySite | null = null): ArraySite | null {
  if (Array.isArray(value)) {
    for (const item of value) best = largestArray(item, best);
    return best;
  }
  if (value === null || typeof value !== 'object') return best;
  const record = value as Record<string, Json>;
  for (const [key, item] of Object.entries(record)) {
    if (Array.isArray(item) && item.length > 1) {
      const chars = size(item);
      if (!best || chars > best.chars) best = { parent: record, key, items: item, chars };
    }
    best = largestArray(item, best);
  }
  return best;
}

/** The value to show the model: unchanged when it fits `maxChars`, else shrunk as described above. */
export function fitForModel(value: Json, maxChars: number): Json {
  const full = size(value);
  if (full <= maxChars) return value;
  const shrunk = clipStrings(structuredClone(value));
  for (let guard = 0; guard < 64 && size(shrunk) > maxChars; guard++) {
    const site = largestArray(shrunk);
    if (!site) break;
    const keep = Math.max(1, Math.floor(site.items.length / 2));
    const omittedKey = `${site.key}Omitted`;
    const already = typeof site.parent[omittedKey] === 'number' ? (site.parent[omittedKey] as number) : 0;
    site.parent[omittedKey] = already + site.items.length - keep;
    site.parent[site.key] = site.items.slice(0, keep);
  }
  if (size(shrunk) <= maxChars) return shrunk;
  return {
    error: 'result_too_large',
    message: `the result was ${full} characters, more than the ${maxChars} a result may take; narrow the query (limit, time window, filters)`,
  };
}
