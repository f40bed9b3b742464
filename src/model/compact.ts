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

/**
 * The tables that could stand for a list of compacted objects (with the shared values in `same`,
 * and without), or none when it is not a list of two or more objects with a key in common.
 */
function tables(items: readonly Json[]): Table[] {
  if (items.length < 2 || !items.every(isPlainObject)) return [];
  // Tables of tables would be correct but hard to read: a list of tables stays a list.
  if (items.some((item) => tableKeys(Object.keys(item)))) return [];
  const objects = items as Array<Record<string, Json>>;
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const object of objects)
    for (const key of Object.keys(object))
      if (!seen.has(key)) {
        seen.add(key);
        keys.push(key);
      }
  const everywhere = keys.filter((key) => objects.every((object) => Object.hasOwn(object, key)));
  if (everywhere.length === 0) return [];
  const constant = everywhere.filter((key) => {
    const first = JSON.stringify(objects[0]?.[key]);
    return objects.every((object) => JSON.stringify(object[key]) === first);
  });
  const rows = (columns: readonly string[]) =>
    objects.map((object) => columns.map((column) => (Object.hasOwn(object, column) ? object[column] : null)));
  const plain: Table = { columns: keys, rows: rows(keys) };
  if (constant.length === 0) return [plain];
  const varying = keys.filter((key) => !constant.includes(key));
  const same = Object.fromEntries(constant.map((key) => [key, objects[0]?.[key]]));
  return [plain, { same, columns: varying, rows: rows(varying) }];
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

/**
 * The value `compactValue` was given, read back: tables as lists of objects (a null cell is an
 * absent field), everything else as it is. Null fields stay absent: what was sent is the value
 * without them.
 */
export function expandValue(value: Json): Json {
  if (!isPlainObject(value)) return Array.isArray(value) ? value.map(expandValue) : value;
  if (isTable(value)) {
    const same = Object.entries(value.same ?? {}).map(([key, item]): [string, Json] => [
      key,
      expandValue(item),
    ]);
    return value.rows.map((row) =>
      Object.fromEntries([
        ...same,
        ...value.columns.flatMap(
          (column, index): Array<[string, Json]> =>
            row[index] === null ? [] : [[column, expandValue(row[index])]],
        ),
      ]),
    );
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandValue(item)]));
}
