import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabPaths, normaliseEvent, openLabStore } from '../../../src/lab/index.js';
import { eventColumnValues } from '../../../src/lab/store/rows.js';
import { eventColumns } from '../../../src/lab/store/schema.js';
import { useTempHome } from '../helpers.js';

const tempHome = useTempHome();

/** A Sysmon process creation whose command lines and user are the given strings. */
function creation(index: number, commandLine: string, parentCommandLine: string, user: string) {
  return {
    '@timestamp': `2024-05-01T10:00:${String(index).padStart(2, '0')}.000Z`,
    Hostname: 'WS7.corp.example',
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    EventID: 1,
    ProcessGuid: `{11111111-2222-3333-4444-${String(index).padStart(12, '0')}}`,
    ProcessId: 100 + index,
    Image: 'C:\\Windows\\System32\\cmd.exe',
    CommandLine: commandLine,
    ParentProcessGuid: '{11111111-2222-3333-4444-999999999999}',
    ParentProcessId: 4,
    ParentImage: 'C:\\Windows\\explorer.exe',
    ParentCommandLine: parentCommandLine,
    User: user,
  };
}

const awkward = [
  'cmd /c "echo, ""quoted"" and, commas"',
  'line one\nline two\r\nline three',
  'tab\there',
  '\\N',
  '"\\N"',
  'nul\u0000inside',
  'ends with a backslash \\',
  'unicode: ÄÖÜ ß — 日本語 😀',
  `long ${'x'.repeat(3 * 1024 * 1024)} end`,
  ' ',
  ',',
  '"',
];

describe('staged columns', () => {
  it('lists every column in the order of eventColumns', () => {
    const event = normaliseEvent(creation(1, 'a', 'b', 'CORP\\alice'), 'f-1');
    const values = eventColumnValues(
      event,
      { seq: 1, fileId: 1, line: 1, entry: 'f', rawJson: '{}', flat: event.raw as Record<string, unknown> },
      { commandId: 1, rawOffset: 0, rawLength: 2 },
    );
    expect(Object.keys(values)).toEqual(eventColumns.map(([name]) => name));
  });

  it('load strings with quotes, commas, line breaks, NUL and `\\N` as they are, empty apart from NULL', async () => {
    const home = tempHome();
    const records = awkward.map((text, index) =>
      creation(index + 1, text, awkward.at(-index - 1) ?? '', text),
    );
    // An empty command line and an absent one (null in the store).
    records.push(creation(awkward.length + 1, '', '', 'CORP\\bob'));
    const { CommandLine: _dropped, ...noCommand } = creation(awkward.length + 2, '', '', 'CORP\\carol');
    const file = join(home, 'awkward.jsonl');
    writeFileSync(file, `${[...records, noCommand].map((record) => JSON.stringify(record)).join('\n')}\n`);
    const loaded = await loadLabPaths(home, [file], { seedFile: null });
    expect(loaded.events).toBe(records.length + 1);
    const store = await openLabStore(home, { readOnly: true, seedFile: null });
    try {
      const { events } = await store.siem.searchEvents({ limit: 100, offset: 0 });
      expect(events).toHaveLength(records.length + 1);
      for (const [index, record] of [...records, noCommand].entries()) {
        const expected = normaliseEvent(record, '');
        const actual = events[index];
        expect(actual?.process, `record ${index}`).toEqual(expected.process);
        expect(actual?.parent, `record ${index}`).toEqual(expected.parent);
        expect(actual?.user, `record ${index}`).toBe(expected.user);
      }
      const [empty] = await store.database.all(
        `SELECT count(*) FILTER (WHERE process_command_line = '') AS empty,
           count(*) FILTER (WHERE process_command_line IS NULL) AS absent FROM events`,
      );
      const normalised = [...records, noCommand].map((record) => normaliseEvent(record, ''));
      const emptyCount = normalised.filter((event) => event.process?.commandLine === '').length;
      expect(emptyCount).toBeGreaterThan(1);
      expect(empty).toEqual({ empty: BigInt(emptyCount), absent: 0n });
      expect((await store.siem.searchEvents({ commandLine: '\\n', limit: 5, offset: 0 })).total).toBe(2);
    } finally {
      store.close();
    }
  });
});
