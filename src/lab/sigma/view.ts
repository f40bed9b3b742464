import type { FlatEvent } from '../flatten.js';

/**
 * The string form a Sigma value test sees: numbers and booleans as text; evtx_dump's `{ "#text": … }`
 * as its text; lists (unnamed `<Data>` elements of classic logs) one item per line; other objects as JSON.
 */
function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return value.map((item) => textOf(item) ?? '').join('\n');
  if (typeof value === 'object' && '#text' in value) return textOf((value as { '#text': unknown })['#text']);
  return JSON.stringify(value);
}

/**
 * One event as the compiled rules read it. Lowercased field values are computed once per event and
 * shared by every rule tested against it, which is where most of the matching time would otherwise go.
 */
export class EventView {
  private readonly lowered = new Map<string, string | undefined>();
  private allLowered: string[] | undefined;
  private joined: string | undefined;

  constructor(readonly event: FlatEvent) {}

  /** The raw value of a field (undefined when absent). */
  value(field: string): unknown {
    return this.event[field];
  }

  /** The field's value as text, or undefined when absent or null. */
  text(field: string): string | undefined {
    return textOf(this.event[field]);
  }

  /** The field's value as lowercase text, cached for the life of the view. */
  lower(field: string): string | undefined {
    if (this.lowered.has(field)) return this.lowered.get(field);
    const text = textOf(this.event[field]);
    const lowered = text?.toLowerCase();
    this.lowered.set(field, lowered);
    return lowered;
  }

  /** Every field value as lowercase text, for keyword searches. */
  allLower(): string[] {
    if (!this.allLowered) {
      this.allLowered = [];
      for (const value of Object.values(this.event)) {
        const text = textOf(value);
        if (text !== undefined) this.allLowered.push(text.toLowerCase());
      }
    }
    return this.allLowered;
  }

  /** Every field value as lowercase text joined by NUL, for substring keyword searches in one pass. */
  joinedLower(): string {
    if (this.joined === undefined) this.joined = this.allText().join('\u0000').toLowerCase();
    return this.joined;
  }

  /** Every field value as text, for case-sensitive keyword searches. */
  allText(): string[] {
    const texts: string[] = [];
    for (const value of Object.values(this.event)) {
      const text = textOf(value);
      if (text !== undefined) texts.push(text);
    }
    return texts;
  }
}
