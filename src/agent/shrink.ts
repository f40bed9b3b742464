/**
 * Bounds what one tool result costs in the model's context. The audit trail keeps the full
 * value; the model gets the same structure without what says nothing (null fields, and the
 * fields of an event's `raw` source record that only repeat a value its normalised fields already
 * show), then, if it is still too large, with long strings clipped and the longest arrays cut,
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

function scalarTexts(value: Json, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) scalarTexts(item, into);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) scalarTexts(item, into);
  else if (value !== null && value !== undefined) into.add(String(value));
  return into;
}

const utcTimePattern = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:Z|[+-]00:?00)?$/;

/**
 * A UTC date-time written as ISO-8601 or as Windows logs write it (`2026-11-18 09:14:34.877`,
 * Sysmon's UtcTime; `…T…0000000Z`) as one text per instant: trailing zeros of the fraction cut.
 * A time with another offset, or none of these shapes, is not a time here (null).
 */
function utcInstant(text: string): string | null {
  const match = utcTimePattern.exec(text);
  if (!match) return null;
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  return `${match[1]}T${match[2]}${fraction ? `.${fraction}` : ''}`;
}

/** Whether a raw field's (present) value is one the normalised fields already show: the same text, or the same UTC instant. */
function alreadyShown(item: Json, shown: ReadonlySet<string>, instants: ReadonlySet<string>): boolean {
  if (typeof item === 'object') return false;
  const text = String(item);
  if (shown.has(text)) return true;
  const instant = typeof item === 'string' ? utcInstant(text) : null;
  return instant !== null && instants.has(instant);
}

/**
 * The value without null fields, and with each `raw` record (the source event behind a
 * normalised one) keeping only the fields that add something: not empty, and not a value that
 * one of the record's normalised siblings already shows (Hostname beside host, Image beside
 * process.image, UtcTime beside timestamp: the same instant written another way). What stays in
 * `raw` is what normalisation did not map (hashes, integrity level, target image…), so nothing
 * the model could use is lost and the audit trail keeps it all.
 */
export function compactForModel(value: Json): Json {
  if (Array.isArray(value)) return value.map(compactForModel);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, Json>;
  const out: Record<string, Json> = {};
  const raw = record.raw;
  const hasRaw = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  for (const [key, item] of Object.entries(record)) {
    if (item === null || item === undefined || (hasRaw && key === 'raw')) continue;
    out[key] = compactForModel(item);
  }
  if (hasRaw) {
    const shown = scalarTexts(out, new Set());
    const instants = new Set([...shown].flatMap((text) => utcInstant(text) ?? []));
    const kept = Object.entries(raw as Record<string, Json>).filter(
      ([, item]) =>
        item !== null && item !== undefined && item !== '' && !alreadyShown(item, shown, instants),
    );
    if (kept.length > 0) out.raw = compactForModel(Object.fromEntries(kept));
  }
  return out;
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
