/**
 * Windows events arrive in two layouts: flat NXLog-style records (Security-Datasets: `EventID`,
 * `Channel`, `Hostname`, `Image`, …) and evtx_dump JSON (`Event.System`, `Event.EventData`).
 * Both become one flat record whose keys are the Sigma Windows field names, so the Sigma engine
 * and the normaliser read one shape.
 */

export type FlatEvent = Record<string, unknown>;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function attribute(value: unknown, name: string): unknown {
  return isObject(value) && isObject(value['#attributes']) ? value['#attributes'][name] : undefined;
}

/** True for an evtx_dump record (`{ Event: { System, EventData? } }`). */
export function isEvtxRecord(record: unknown): boolean {
  return isObject(record) && isObject(record.Event) && isObject(record.Event.System);
}

/** The text of an unnamed `<Data>` item: a string, `{ "#text": … }`, or a list of them (evtx_dump joins repeats). */
function unnamedValues(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(unnamedValues);
  if (isObject(value)) return '#text' in value ? unnamedValues(value['#text']) : [];
  return value === undefined ? [] : [value];
}

/**
 * Copies event data into the flat record. `<Data Name="x">` becomes `x`; unnamed `<Data>` items (classic
 * logs such as MSSQL audit or Application errors) become `Data`, one string or a list in document order,
 * which is the field Sigma rules read as "the event data as a whole".
 */
function addData(flat: FlatEvent, data: unknown): void {
  if (!isObject(data)) return;
  const unnamed: unknown[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (key === '#attributes') continue;
    if (key !== 'Data') {
      flat[key] = value;
      continue;
    }
    // <Data Name="x"> lists come through as { Data: [{ '#attributes': { Name }, '#text' }] } in some dumps.
    for (const item of Array.isArray(value) ? value : [value]) {
      const name = attribute(item, 'Name');
      if (typeof name === 'string') flat[name] = isObject(item) ? item['#text'] : item;
      else unnamed.push(...unnamedValues(item));
    }
  }
  if (unnamed.length > 0 && flat.Data === undefined) flat.Data = unnamed.length === 1 ? unnamed[0] : unnamed;
}

/** Flattens an evtx_dump record; flat records are returned as they are. */
export function flattenWindowsEvent(record: Json): FlatEvent {
  if (!isEvtxRecord(record)) return record;
  const event = record.Event as Json;
  const system = event.System as Json;
  const flat: FlatEvent = {};
  addData(flat, event.EventData);
  addData(flat, event.UserData && isObject(event.UserData) ? Object.values(event.UserData)[0] : undefined);
  const eventId = system.EventID;
  flat.EventID = isObject(eventId) ? Number(eventId['#text']) : eventId;
  flat.Channel = system.Channel;
  flat.Computer = system.Computer;
  flat.Provider_Name = attribute(system.Provider, 'Name');
  flat.TimeCreated = attribute(system.TimeCreated, 'SystemTime');
  flat.EventRecordID = system.EventRecordID;
  const userId = attribute(system.Security, 'UserID');
  if (userId !== undefined) flat.SecurityUserID = userId;
  return flat;
}
