import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventFilter } from '../../../src/capability/backends/types.js';
import type { LabStore } from '../../../src/lab/index.js';
import { loadLabPaths, openLabStore, sampleLabDir } from '../../../src/lab/index.js';
import { useTempHome } from '../helpers.js';
import { lsassCampaign, sharedDatasets } from '../loaders/shared.js';

const tempHome = useTempHome();
const stores: LabStore[] = [];
afterAll(() => {
  for (const store of stores) store.close();
});

async function open(home: string): Promise<LabStore> {
  const store = await openLabStore(home, { readOnly: true, seedFile: null });
  stores.push(store);
  return store;
}

/** Id, host and command line of every event, in search order (ts, seq), read straight from `events`. */
interface Scanned {
  id: string;
  host: string;
  commandLine: string | null;
}

async function everyEvent(store: LabStore): Promise<Scanned[]> {
  const rows = await store.database.all('SELECT id, host, process_command_line FROM events ORDER BY ts, seq');
  return rows.map((row) => ({
    id: String(row.id),
    host: String(row.host),
    commandLine: row.process_command_line === null ? null : String(row.process_command_line),
  }));
}

/** The plain scan: a case-insensitive substring test of each event's command line, in store order. */
function plainScan(
  events: readonly Scanned[],
  needle: string,
  also: (event: Scanned) => boolean = () => true,
) {
  const wanted = needle.toLowerCase();
  return events.filter(
    (event) => (event.commandLine?.toLowerCase().includes(wanted) ?? false) && also(event),
  );
}

const needles = [
  'a',
  'E',
  'ex',
  '.EXE',
  ' -',
  '\\',
  '"',
  '%',
  '_',
  'c:\\windows\\system32\\',
  'WHOAMI',
  'PowerShell',
  'cmd.exe /c',
  'no-such-command-line-anywhere',
];

/** Pages through a search `limit` at a time; checks every page's total and the next offsets. */
async function pagedIds(store: LabStore, filter: EventFilter, limit: number): Promise<string[]> {
  const first = await store.siem.searchEvents({ ...filter, limit, offset: 0 });
  const ids: string[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    const page = await store.siem.searchEvents({ ...filter, limit, offset });
    expect(page.total).toBe(first.total);
    ids.push(...page.events.map((event) => event.id));
    offset = page.nextOffset;
  }
  expect(ids).toHaveLength(first.total);
  return ids;
}

async function expectSameAsPlainScan(store: LabStore): Promise<number> {
  const events = await everyEvent(store);
  const hosts = [...new Set(events.map((event) => event.host))];
  let hits = 0;
  for (const needle of needles) {
    const expected = plainScan(events, needle);
    hits += expected.length;
    const all = await store.siem.searchEvents({ commandLine: needle, limit: 1_000_000, offset: 0 });
    expect(all.total, needle).toBe(expected.length);
    expect(
      all.events.map((event) => event.id),
      needle,
    ).toEqual(expected.map((event) => event.id));
    // Whole events, as fetched by id from `events`.
    for (const event of all.events.slice(0, 20)) expect(event).toEqual(await store.siem.getEvent(event.id));
    const pageSize = Math.max(7, Math.ceil(expected.length / 15));
    expect(await pagedIds(store, { commandLine: needle }, pageSize), needle).toEqual(
      expected.map((event) => event.id),
    );
    const host = hosts[needle.length % hosts.length] ?? '';
    const onHost = plainScan(events, needle, (event) => event.host === host);
    const hostPage = await store.siem.searchEvents({ commandLine: needle, host, limit: 5, offset: 1 });
    expect(hostPage.total, `${needle} on ${host}`).toBe(onHost.length);
    expect(hostPage.events.map((event) => event.id)).toEqual(onHost.slice(1, 6).map((event) => event.id));
  }
  return hits;
}

describe('command-line substring search', () => {
  it('returns what a plain scan of every command line returns, case-insensitively and page by page', async () => {
    const home = tempHome();
    await loadLabPaths(home, [join(sampleLabDir, 'sample-incident.jsonl')], { seedFile: null });
    const store = await open(home);
    expect(await expectSameAsPlainScan(store)).toBeGreaterThan(100);
    // The empty needle matches every event with a process, command line or not.
    const empty = await store.siem.searchEvents({ commandLine: '', limit: 1_000_000, offset: 0 });
    expect(empty.events.map((event) => event.id)).toEqual(
      plainScan(await everyEvent(store), '').map((event) => event.id),
    );
  });

  it.skipIf(!sharedDatasets)('agrees with the plain scan over a Security-Datasets campaign too', async () => {
    const home = tempHome();
    await loadLabPaths(home, [join(sharedDatasets ?? '', lsassCampaign)]);
    expect(await expectSameAsPlainScan(await open(home))).toBeGreaterThan(1000);
  });

  it('sees Security 4688 parents linked by a later load', async () => {
    const home = tempHome();
    const creation = (at: string, pid: number, parentPid: number, image: string) => ({
      '@timestamp': at,
      Hostname: 'WS7.corp.example',
      Channel: 'Security',
      EventID: 4688,
      NewProcessId: `0x${pid.toString(16)}`,
      ProcessId: `0x${parentPid.toString(16)}`,
      NewProcessName: image,
      CommandLine: `${image} /quiet`,
    });
    const child = join(home, 'child.jsonl');
    const parent = join(home, 'parent.jsonl');
    writeFileSync(
      child,
      `${JSON.stringify(creation('2024-05-01T10:00:05.000Z', 0x200, 0x100, 'C:\\Windows\\whoami.exe'))}\n`,
    );
    writeFileSync(
      parent,
      `${JSON.stringify(creation('2024-05-01T09:59:00.000Z', 0x100, 0x4, 'C:\\Windows\\cmd.exe'))}\n`,
    );
    await loadLabPaths(home, [child], { seedFile: null });
    await loadLabPaths(home, [parent], { seedFile: null });
    const store = await open(home);
    const [whoami] = (await store.siem.searchEvents({ commandLine: 'WHOAMI.exe /q', limit: 5, offset: 0 }))
      .events;
    const [cmd] = (await store.siem.searchEvents({ commandLine: 'cmd.exe', limit: 5, offset: 0 })).events;
    expect(whoami?.parent?.guid).toBeTruthy();
    expect(whoami?.parent?.guid).toBe(cmd?.process?.guid);
    expect(whoami).toEqual(await store.siem.getEvent(whoami?.id ?? ''));
  });
});
