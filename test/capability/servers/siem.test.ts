import { describe, expect, it } from 'vitest';
import type {
  CountResult,
  EventPage,
  LabEvent,
  LogonRecord,
} from '../../../src/capability/backends/types.js';
import { createBundledServer, createSiemServer } from '../../../src/capability/servers/index.js';
import { loadSampleLab } from '../../../src/lab/index.js';
import { sample, useTempHome } from '../../lab/helpers.js';
import { callError, callOk, connect, expectTools } from './client.js';

const tempHome = useTempHome();

describe('siem MCP server', () => {
  it('lists its tools with input and output schemas and read-only annotations', async () => {
    const { tools } = await connect(createSiemServer(loadSampleLab(tempHome()).siem));
    expectTools(tools, ['search_events', 'get_event', 'count_events', 'logon_history']);
    expect(tools.every((tool) => tool.annotations?.readOnlyHint === true)).toBe(true);
    const search = tools.find((tool) => tool.name === 'search_events');
    expect(Object.keys(search?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['host', 'processGuid', 'text', 'from', 'to', 'limit', 'offset']),
    );
  });

  it('searches with defaults and pages, then fetches one event by id', async () => {
    const { client } = await connect(createBundledServer('siem', { home: tempHome() }));
    const page = await callOk<EventPage>(client, 'search_events', {
      host: 'FIN-WS01',
      action: 'process_start',
      eventCode: 1,
    });
    expect(page.events.map((event) => event.process?.image.split('\\').at(-1))).toEqual([
      'explorer.exe',
      'OUTLOOK.EXE',
      'msedge.exe',
      'mshta.exe',
      'powershell.exe',
      'whoami.exe',
      'nltest.exe',
    ]);
    expect(page.nextOffset).toBeNull();
    const small = await callOk<EventPage>(client, 'search_events', { host: 'FIN-WS01', limit: 2, offset: 2 });
    expect(small.events).toHaveLength(2);
    expect(small.nextOffset).toBe(4);
    const powershell = page.events[4]!;
    const { event } = await callOk<{ event: LabEvent }>(client, 'get_event', { id: powershell.id });
    expect(event.process?.guid).toBe(sample.powershellGuid);
    expect(event.parent?.guid).toBe(sample.mshtaGuid);
    expect(event.raw.CommandLine).toBe(event.process?.commandLine);
  });

  it('counts by an enum field and reports logon history', async () => {
    const { client } = await connect(createSiemServer(loadSampleLab(tempHome()).siem));
    const counts = await callOk<CountResult>(client, 'count_events', {
      field: 'dns.query',
      host: 'FIN-WS01',
      limit: 20,
    });
    expect(counts.buckets.map((bucket) => bucket.value)).toContain(sample.callbackDomain);
    const { logons } = await callOk<{ logons: LogonRecord[] }>(client, 'logon_history', {
      user: 'HARBOURLINE\\d.reyes',
      limit: 10,
    });
    expect(logons.map((logon) => logon.host)).toContain('FS01.harbourline.local');
    expect(logons.every((logon) => logon.user === 'HARBOURLINE\\d.reyes')).toBe(true);
  });

  it('returns readable errors for an unknown id, a bad time filter and out-of-range input', async () => {
    const { client } = await connect(createSiemServer(loadSampleLab(tempHome()).siem));
    expect(await callError(client, 'get_event', { id: 'sample-incident-9999' })).toContain(
      'no event with id "sample-incident-9999"',
    );
    expect(await callError(client, 'search_events', { from: 'last tuesday' })).toContain(
      '"from" is not an ISO-8601 time',
    );
    expect(await callError(client, 'search_events', { limit: 501 })).toMatch(/limit/);
    expect(await callError(client, 'count_events', { field: 'raw.Password' })).toMatch(/field/);
  });
});
