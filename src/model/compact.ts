/**
 * Compact JSON for what goes on the wire to a model: the same values, in fewer characters. Every
 * turn resends the conversation, so each tool result is paid for again on every later turn, and
 * search results are lists of events whose keys repeat on every row.
 *
 * - A list of two or more objects that all share at least one key may become a table,
 *   `{"same":{...},"columns":[key, ...],"rows":[[value, ...], ...]}`: one object per row, its
 *   values in column order, a null cell where that object has no such field, plus the fields in
 *   `same` (present only when some field has the same value in every row). The table is used only
 *   where it is shorter than the list. Any other list (scalars, mixed items, objects with no key in
 *   common, a list of tables) is left as it is. Tables nest: a cell or a `same` value holding a
 *   list of objects is itself compacted.
 * - A field whose values are objects may be sent as one column per key, named by path: column
 *   `process.pid` is field `pid` of field `process` (`same` keys likewise), a null cell again "no
 *   such field"; only where shorter, for objects that are not empty (a row has `process` exactly
 *   when one of its `process.*` cells has a value), and at most MAX_PATH keys deep. A dot always
 *   separates keys in a table's names, so a list of objects with a key that holds a dot is not made
 *   a table, and objects with such a key (or that are or could be read as tables) are not split.
 * - Fields whose value is null are left out. On this wire null and absent both mean "no value":
 *   the loop already drops null fields from tool results (agent/shrink.ts), and the tool and
 *   alert schemas use null only for "none" (no parent, no next page, no user), never as a value
 *   of its own. Leaving them out everywhere is what lets a null cell mean "no such field".
 *   Nulls inside lists are kept (their position is information).
 * - An object of the data whose keys are, in order, those of a table is sent with its keys in
 *   reverse order, so it is never read back as a table (`expandValue`).
 *
 * Marking (datamark.ts) runs before this, on the value's own paths, so the provenance labels'
 * trusted paths mean what they always meant; a table only moves marked strings into cells. Object
 * keys, marked like the strings of their data, become column names as they are.
 */

type Json = unknown;

/** Deeper than this a value is sent as it is (untrusted values are already cut at depth 32 by marking). */
const MAX_DEPTH = 64;

/** An object as JSON.parse makes them; a Date or anything else with its own JSON form is not. */
function isPlainObject(value: Json): value is Record<string, Json> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function length(value: Json): number {
  return JSON.stringify(value)?.length ?? 0;
}

interface Table {
  same?: Record<string, Json>;
  columns: string[];
  rows: Json[][];
}

/** One object's field across the rows of a table: its path (keys joined by dots) and its value in each row. */
interface Field {
  path: string;
  cells: Array<Json | undefined>;
}

/** Where a field goes in a table: the (sub-)fields sent once in `same`, those sent by column, and their length in characters. */
interface Layout {
  same: Field[];
  columns: Field[];
  length: number;
}

/** A path longer than this (in keys) is not split further: `a.b.c` still reads as one field. */
const MAX_PATH = 3;

function union(objects: ReadonlyArray<Record<string, Json>>): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const object of objects)
    for (const key of Object.keys(object))
      if (!seen.has(key)) {
        seen.add(key);
        keys.push(key);
      }
  return keys;
}

/**
 * The objects of a field that may be sent as one column per key: plain, not empty (a row has the
 * field only if one of its sub-fields has a value), no key with a dot (a dot separates keys), and
 * not a table nor an object of the data that could be read as one.
 */
function splittable(cells: ReadonlyArray<Json | undefined>): Array<Record<string, Json>> | undefined {
  const present = cells.filter((cell) => cell !== undefined);
  if (present.length === 0) return undefined;
  for (const cell of present) {
    if (!isPlainObject(cell)) return undefined;
    const keys = Object.keys(cell);
    if (keys.length === 0 || keys.some((key) => key.includes('.'))) return undefined;
    if (tableKeys(keys) || tableKeys([...keys].reverse())) return undefined;
  }
  return present as Array<Record<string, Json>>;
}

/**
 * The shortest layout of one field: sent once in `same` (when every row has the same value and
 * `same` is used), as one column, or, when its values are objects, as one column per key, each
 * laid out the same way. Lengths count the field's name, its values, and their separators.
 */
function layout(field: Field, depth: number, useSame: boolean): Layout {
  const name = length(field.path) + 1;
  // Each cell's JSON once: it decides whether every row has the same value, and the lengths.
  const texts = field.cells.map((cell) => JSON.stringify(cell ?? null) ?? '');
  const constant =
    useSame && field.cells.every((cell) => cell !== undefined) && texts.every((text) => text === texts[0]);
  const whole: Layout = constant
    ? { same: [field], columns: [], length: name + texts[0]!.length + 1 }
    : {
        same: [],
        columns: [field],
        length: texts.reduce((sum, text) => sum + text.length + 1, name),
      };
  const objects = depth < MAX_PATH ? splittable(field.cells) : undefined;
  if (!objects) return whole;
  const split: Layout = { same: [], columns: [], length: 0 };
  for (const key of union(objects)) {
    const cells = field.cells.map((cell) =>
      isPlainObject(cell) && Object.hasOwn(cell, key) ? cell[key] : undefined,
    );
    const part = layout({ path: `${field.path}.${key}`, cells }, depth + 1, useSame);
    split.same.push(...part.same);
    split.columns.push(...part.columns);
    split.length += part.length;
  }
  return split.length < whole.length ? split : whole;
}

function toTable({ same, columns }: Omit<Layout, 'length'>, count: number): Table {
  const table: Table = {
    columns: columns.map((field) => field.path),
    rows: Array.from({ length: count }, (_, row) => columns.map((field) => field.cells[row] ?? null)),
  };
  if (same.length === 0) return table;
  return { same: Object.fromEntries(same.map((field) => [field.path, field.cells[0]])), ...table };
}

/**
 * The tables that could stand for a list of compacted objects (fields as they are, or objects
 * split into a column per key; with the shared values in `same`, and without), or none when it is
 * not a list of two or more objects with a key in common and no key with a dot.
 */
function tables(items: readonly Json[]): Table[] {
  if (items.length < 2 || !items.every(isPlainObject)) return [];
  // Tables of tables would be correct but hard to read: a list of tables stays a list.
  if (items.some((item) => tableKeys(Object.keys(item)))) return [];
  const objects = items as Array<Record<string, Json>>;
  const keys = union(objects);
  // A dot in a column's name separates keys, so a key with its own dot cannot be a column.
  if (keys.some((key) => key.includes('.'))) return [];
  const everywhere = keys.filter((key) => objects.every((object) => Object.hasOwn(object, key)));
  if (everywhere.length === 0) return [];
  const fields = keys.map(
    (key): Field => ({
      path: key,
      cells: objects.map((object) => (Object.hasOwn(object, key) ? object[key] : undefined)),
    }),
  );
  const candidates = [toTable({ same: [], columns: fields }, objects.length)];
  for (const useSame of [false, true]) {
    const layouts = fields.map((field) => layout(field, 1, useSame));
    const same = layouts.flatMap((item) => item.same);
    const columns = layouts.flatMap((item) => item.columns);
    candidates.push(toTable({ same, columns }, objects.length));
  }
  return candidates;
}

function compact(value: Json, depth: number): Json {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => compact(item, depth + 1));
    let best: Json = items;
    let bestLength = length(items);
    for (const candidate of tables(items)) {
      const candidateLength = length(candidate);
      if (candidateLength < bestLength) [best, bestLength] = [candidate, candidateLength];
    }
    return best;
  }
  if (!isPlainObject(value)) return value;
  // Entries, not assignment: a `__proto__` key of the data stays a field.
  const entries = Object.entries(value)
    .filter(([, item]) => item !== null && item !== undefined)
    .map(([key, item]): [string, Json] => [key, compact(item, depth + 1)]);
  if (tableKeys(entries.map(([key]) => key))) entries.reverse();
  return Object.fromEntries(entries);
}

/** The value as it goes on the wire: lists of like objects as tables, null fields left out (see above). */
export function compactValue(value: Json): Json {
  return compact(value, 0);
}

/** Whether keys, in order, are a table's: `columns`, `rows`, or `same`, `columns`, `rows`. */
function tableKeys(keys: readonly string[]): boolean {
  const [first, second, third] = keys;
  if (keys.length === 2) return first === 'columns' && second === 'rows';
  return keys.length === 3 && first === 'same' && second === 'columns' && third === 'rows';
}

function isTable(value: Record<string, Json>): value is Record<string, Json> & Table {
  if (!tableKeys(Object.keys(value))) return false;
  const { same, columns, rows } = value;
  return (
    (same === undefined || isPlainObject(same)) &&
    Array.isArray(columns) &&
    columns.every((column) => typeof column === 'string') &&
    Array.isArray(rows) &&
    rows.every((row) => Array.isArray(row) && row.length === columns.length)
  );
}

/** Sets a field at a column's path, making the objects on the way; own fields, so `__proto__` stays data. */
function setPath(target: Record<string, Json>, path: readonly string[], value: Json): void {
  const [key, ...rest] = path;
  if (key === undefined) return;
  if (rest.length === 0) {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    return;
  }
  const inner = Object.hasOwn(target, key) ? target[key] : undefined;
  if (isPlainObject(inner)) setPath(inner, rest, value);
  else {
    const object: Record<string, Json> = {};
    setPath(object, rest, value);
    setPath(target, [key], object);
  }
}

/**
 * The value `compactValue` was given, read back: tables as lists of objects (a null cell is an
 * absent field, a column `a.b` is field `b` of field `a`), everything else as it is. Null fields
 * stay absent: what was sent is the value without them.
 */
export function expandValue(value: Json): Json {
  if (!isPlainObject(value)) return Array.isArray(value) ? value.map(expandValue) : value;
  if (isTable(value)) {
    const same = Object.entries(value.same ?? {});
    return value.rows.map((row) => {
      const object: Record<string, Json> = {};
      for (const [path, item] of [...same, ...value.columns.map((column, index) => [column, row[index]])])
        if (item !== null) setPath(object, String(path).split('.'), expandValue(item));
      return object;
    });
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandValue(item)]));
}
