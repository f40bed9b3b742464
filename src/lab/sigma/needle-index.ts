import type { Needle } from './prefilter.js';
import type { EventView } from './view.js';

/**
 * Positional literals are looked up by their first or last characters, up to this many: long enough that
 * common endings (`.exe`) do not pile hundreds of literals on one key, short enough to bound the lookups.
 */
const keyLength = 8;

/** One distinct needle and the rules (indices into a group) it admits. */
interface Entry {
  text: string;
  rules: number[];
}

/** Literals keyed by their first/last `min(length, keyLength)` characters, one map per key length. */
type PositionalIndex = Map<number, Map<string, Entry[]>>;

interface FieldIndex {
  field: string;
  equals: Map<string, number[]>;
  /** The longest equals literal: longer values are not looked up (hashing a long value costs its length). */
  equalsMax: number;
  starts: PositionalIndex;
  ends: PositionalIndex;
  contains: Entry[];
  /** The contains literals by their first character. */
  containsByFirst: Map<number, Entry[]>;
  /** Any of the contains literals (global), to find where they start. */
  containsGate: RegExp | undefined;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function addPositional(index: PositionalIndex, text: string, rule: number, key: string): void {
  const length = key.length;
  let byKey = index.get(length);
  if (!byKey) {
    byKey = new Map();
    index.set(length, byKey);
  }
  const entries = byKey.get(key) ?? [];
  const entry = entries.find((item) => item.text === text);
  if (entry) entry.rules.push(rule);
  else entries.push({ text, rules: [rule] });
  byKey.set(key, entries);
}

/**
 * For one group of rules sharing an event view: which rules can possibly match an event, found by testing
 * each rule's needles (see prefilter.ts) once per event and per distinct literal, instead of evaluating
 * every rule. Rules without needles are always possible.
 */
export class NeedleIndex {
  private readonly fields: FieldIndex[] = [];
  private readonly byField = new Map<string, FieldIndex>();
  private readonly always: Uint8Array;
  private readonly stamps: Uint32Array;
  private epoch = 0;

  constructor(needlesByRule: ReadonlyArray<readonly Needle[] | undefined>) {
    this.always = new Uint8Array(needlesByRule.length);
    this.stamps = new Uint32Array(needlesByRule.length);
    const byField = this.byField;
    needlesByRule.forEach((needles, rule) => {
      if (!needles) {
        this.always[rule] = 1;
        return;
      }
      for (const needle of needles) {
        let index = byField.get(needle.field);
        if (!index) {
          index = {
            field: needle.field,
            equals: new Map(),
            equalsMax: -1,
            starts: new Map(),
            ends: new Map(),
            contains: [],
            containsByFirst: new Map(),
            containsGate: undefined,
          };
          byField.set(needle.field, index);
        }
        const { text } = needle;
        if (needle.kind === 'equals') {
          const rules = index.equals.get(text) ?? [];
          rules.push(rule);
          index.equals.set(text, rules);
          index.equalsMax = Math.max(index.equalsMax, text.length);
        } else if (needle.kind === 'startswith')
          addPositional(index.starts, text, rule, text.slice(0, keyLength));
        else if (needle.kind === 'endswith') addPositional(index.ends, text, rule, text.slice(-keyLength));
        else {
          const entry = index.contains.find((item) => item.text === text);
          if (entry) entry.rules.push(rule);
          else index.contains.push({ text, rules: [rule] });
        }
      }
    });
    for (const index of byField.values()) {
      if (index.contains.length > 0) {
        index.containsGate = new RegExp(
          index.contains.map((entry) => escapeRegex(entry.text)).join('|'),
          'g',
        );
        for (const entry of index.contains) {
          const code = entry.text.charCodeAt(0);
          const list = index.containsByFirst.get(code) ?? [];
          list.push(entry);
          index.containsByFirst.set(code, list);
        }
      }
      this.fields.push(index);
    }
  }

  /** Marks the rules whose needles occur in the event; `possible(i)` is then true for them and for needle-less rules. */
  scan(view: EventView): void {
    this.epoch = this.epoch === 0xffffffff ? 1 : this.epoch + 1;
    if (this.epoch === 1) this.stamps.fill(0);
    // Walk whichever is shorter: the indexed fields, or the event's own fields (absent fields hold no needle).
    const keys = Object.keys(view.event);
    if (keys.length < this.fields.length) {
      for (const key of keys) {
        const index = this.byField.get(key);
        if (index) this.scanField(index, view);
      }
    } else for (const index of this.fields) this.scanField(index, view);
  }

  private mark(rules: number[]): void {
    const { stamps, epoch } = this;
    for (const rule of rules) stamps[rule] = epoch;
  }

  private scanField(index: FieldIndex, view: EventView): void {
    const value = view.lower(index.field);
    if (value === undefined) return;
    if (value.length <= index.equalsMax) {
      const equal = index.equals.get(value);
      if (equal) this.mark(equal);
    }
    for (const [length, byKey] of index.starts) {
      if (value.length < length) continue;
      const entries = byKey.get(value.slice(0, length));
      if (entries) for (const entry of entries) if (value.startsWith(entry.text)) this.mark(entry.rules);
    }
    for (const [length, byKey] of index.ends) {
      if (value.length < length) continue;
      const entries = byKey.get(value.slice(value.length - length));
      if (entries) for (const entry of entries) if (value.endsWith(entry.text)) this.mark(entry.rules);
    }
    const gate = index.containsGate;
    if (!gate) return;
    // The regex reports the first position at or after lastIndex where any literal starts; the literals
    // starting there are then tested, and the search resumes one character on, so overlapping and nested
    // occurrences are all seen.
    let position = 0;
    while (position < value.length) {
      gate.lastIndex = position;
      const found = gate.exec(value);
      if (!found) break;
      const start = found.index;
      const entries = index.containsByFirst.get(value.charCodeAt(start));
      if (entries)
        for (const entry of entries) if (value.startsWith(entry.text, start)) this.mark(entry.rules);
      position = start + 1;
    }
  }

  /** Whether rule `rule` of the group may match the event last scanned. */
  possible(rule: number): boolean {
    return this.always[rule] === 1 || this.stamps[rule] === this.epoch;
  }
}
