import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventFilter, SiemBackend } from '../../../src/capability/backends/types.js';
import type { LabStore } from '../../../src/lab/index.js';
import { loadSampleLab, openLabStore, sampleLabDir } from '../../../src/lab/index.js';
import { sample, useTempHome } from '../helpers.js';

const tempHome = useTempHome();
const stores: LabStore[] = [];
afterAll(() => {
  for (const store of stores) store.close();
});

async function both(): Promise<{ memory: SiemBackend; store: SiemBackend }> {
  const home = tempHome();
  const store = await openLabStore(home, {
    readOnly: true,
    seedFile: join(sampleLabDir, 'sample-incident.jsonl'),
  });
  stores.push(store);
  return { memory: loadSampleLab(home).siem, store: store.siem };
}

const filters: EventFilter[] = [
  { host: 'fin-ws01' },
  { host: 'FIN-WS01.harbourline.local', action: 'process_start', eventCode: 1 },
  { user: 'j.lindqvist' },
  { user: 'HARBOURLINE\\d.reyes', from: '2026-11-18T09:00:00Z', to: '2026-11-18T10:00:00Z' },
  { process: 'POWERSHELL.EXE', commandLine: '-ENC' },
  { processGuid: sample.powershellGuid.slice(1, -1).toUpperCase() },
  { parentProcessGuid: sample.powershellGuid },
  { text: 'EdgeUpdateTask' },
  { text: 'c:\\windows\\system32\\nltest' },
  // Only in script blocks: found in the raw records, which live outside DuckDB.
  { text: 'lanmanserver, DFSR' },
  { commandLine: '', host: 'FIN-WS01' },
  { commandLine: 'USOCLIENT.exe start', process: 'system32' },
  { from: '2026-11-18T09:14:00Z', to: '2026-11-18T09:15:00Z' },
  { action: 'dns_query', host: 'FIN-WS01' },
];

describe('DuckDB SIEM', () => {
  it('returns exactly what the in-memory lab returns for the same filters, in the same order', async () => {
    const { memory, store } = await both();
    for (const filter of filters) {
      const expected = await memory.searchEvents({ ...filter, limit: 500, offset: 0 });
      const actual = await store.searchEvents({ ...filter, limit: 500, offset: 0 });
      expect(actual.total, JSON.stringify(filter)).toBe(expected.total);
      expect(actual.events, JSON.stringify(filter)).toEqual(expected.events);
    }
    expect((await store.searchEvents({ text: 'EdgeUpdateTask', limit: 5, offset: 0 })).total).toBeGreaterThan(
      1,
    );
    for (const filter of [
      { text: 'lanmanserver, DFSR' },
      { commandLine: 'USOCLIENT.exe start', process: 'system32' },
    ])
      expect(
        (await store.searchEvents({ ...filter, limit: 5, offset: 0 })).total,
        JSON.stringify(filter),
      ).toBeGreaterThan(0);
  });

  it('pages stably through a time window and reports the next offset', async () => {
    const { store } = await both();
    const window = { from: '2026-11-18T09:00:00Z', to: '2026-11-18T10:30:00Z' };
    const all = await store.searchEvents({ ...window, limit: 500, offset: 0 });
    expect(all.total).toBeGreaterThan(20);
    const seen: string[] = [];
    for (let offset: number | null = 0; offset !== null; ) {
      const page = await store.searchEvents({ ...window, limit: 7, offset });
      expect(page.total).toBe(all.total);
      seen.push(...page.events.map((event) => event.id));
      offset = page.nextOffset;
    }
    expect(seen).toEqual(all.events.map((event) => event.id));
    expect(
      all.events.every(
        (event) => event.timestamp >= '2026-11-18T09:00:00' && event.timestamp <= '2026-11-18T10:30:00',
      ),
    ).toBe(true);
    await expect(store.searchEvents({ from: 'yesterday', limit: 5, offset: 0 })).rejects.toThrow(/ISO-8601/);
    await expect(
      store.searchEvents({ from: '2026-11-19T00:00:00Z', to: '2026-11-18T00:00:00Z', limit: 5, offset: 0 }),
    ).rejects.toThrow(/after/);
  });

  it('counts, fetches by id and lists logons like the in-memory lab', async () => {
    const { memory, store } = await both();
    for (const field of [
      'network.destinationIp',
      'dns.query',
      'process.image',
      'eventCode',
      'user',
    ] as const) {
      const query = { field, host: 'FIN-WS01', limit: 5 };
      const [expected, actual] = [await memory.countEvents(query), await store.countEvents(query)];
      expect(actual.total, field).toBe(expected.total);
      expect(
        actual.buckets.map((bucket) => bucket.count),
        field,
      ).toEqual(expected.buckets.map((bucket) => bucket.count));
    }
    expect(
      (await store.countEvents({ field: 'network.destinationIp', host: 'FIN-WS01', limit: 1 })).buckets,
    ).toEqual([{ value: sample.callbackIp, count: 5 }]);
    const some = (await memory.searchEvents({ action: 'registry_set', limit: 1, offset: 0 })).events[0];
    expect(await store.getEvent(some?.id ?? '')).toEqual(some);
    expect(await store.getEvent('sample-incident-9999')).toBeNull();
    expect(await store.logonHistory({ user: 'j.lindqvist', limit: 50 })).toEqual(
      await memory.logonHistory({ user: 'j.lindqvist', limit: 50 }),
    );
    expect(await store.logonHistory({ user: 'OTHERDOMAIN\\j.lindqvist', limit: 50 })).toEqual([]);
  });
});
