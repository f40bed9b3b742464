/** A part of a timestamp the Sigma time modifiers compare. */
export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** Parses an event timestamp; times without a zone (Sysmon UtcTime, NXLog EventTime) are read as UTC. */
export function parseEventTime(value: unknown): Date | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let candidate = value
    .trim()
    .replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2')
    .replace(/(\.\d{3})\d+/, '$1');
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(candidate)) candidate += 'Z';
  const time = Date.parse(candidate);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** Parses an event timestamp to ISO-8601 (UTC), or undefined when it is not a time. */
export function normaliseTime(value: unknown): string | undefined {
  return parseEventTime(value)?.toISOString();
}

/** ISO-8601 week number (1–53) of a UTC date. */
function isoWeek(date: Date): number {
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  return Math.floor((thursday.getTime() - yearStart) / 86_400_000 / 7) + 1;
}

/** The given part of a UTC date, as the Sigma minute/hour/day/week/month/year modifiers read it. */
export function timePart(date: Date, part: TimePart): number {
  switch (part) {
    case 'minute':
      return date.getUTCMinutes();
    case 'hour':
      return date.getUTCHours();
    case 'day':
      return date.getUTCDate();
    case 'week':
      return isoWeek(date);
    case 'month':
      return date.getUTCMonth() + 1;
    case 'year':
      return date.getUTCFullYear();
  }
}
