import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, StateError } from '../../src/errors.js';
import { loadSampleLab, sampleLabDir } from '../../src/lab/index.js';
import { sample, useTempHome } from './helpers.js';

const tempHome = useTempHome();
const fixedNow = () => new Date('2026-11-18T11:00:00.000Z');

describe('lab SIEM', () => {
  it('pages a search stably and reports the total', async () => {
    const { siem } = loadSampleLab(tempHome());
    const first = await siem.searchEvents({ host: 'fin-ws01', limit: 10, offset: 0 });
    const second = await siem.searchEvents({ host: 'FIN-WS01.harbourline.local', limit: 10, offset: 10 });
    expect(first.total).toBe(second.total);
    expect(first.events).toHaveLength(10);
    expect(first.nextOffset).toBe(10);
    expect(first.events.map((event) => event.id)).not.toContain(second.events[0]?.id);
    const last = await siem.searchEvents({ host: 'FIN-WS01', limit: 10, offset: first.total - 3 });
    expect(last.events).toHaveLength(3);
    expect(last.nextOffset).toBeNull();
    const times = first.events.map((event) => Date.parse(event.timestamp));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('filters by substring, guid, time window and free text', async () => {
    const { siem } = loadSampleLab(tempHome());
    const children = await siem.searchEvents({
      parentProcessGuid: sample.powershellGuid.slice(1, -1).toUpperCase(),
      action: 'process_start',
      limit: 50,
      offset: 0,
    });
    expect(children.events.map((event) => event.process?.image)).toEqual([
      'C:\\Windows\\System32\\whoami.exe',
      'C:\\Windows\\System32\\nltest.exe',
    ]);
    const encoded = await siem.searchEvents({
      process: 'POWERSHELL.EXE',
      commandLine: '-ENC',
      limit: 50,
      offset: 0,
    });
    expect(encoded.events.every((event) => event.host.startsWith('FIN-WS01'))).toBe(true);
    const windowed = await siem.searchEvents({
      from: '2026-11-18T09:14:00Z',
      to: '2026-11-18T09:15:00Z',
      limit: 500,
      offset: 0,
    });
    expect(windowed.total).toBeGreaterThan(10);
    expect(
      windowed.events.every(
        (event) => event.timestamp >= '2026-11-18T09:14:00' && event.timestamp <= '2026-11-18T09:15:00',
      ),
    ).toBe(true);
    const text = await siem.searchEvents({ text: 'EdgeUpdateTask', limit: 50, offset: 0 });
    expect(text.events.map((event) => event.action)).toEqual(
      expect.arrayContaining(['registry_set', 'script_block']),
    );
    await expect(siem.searchEvents({ from: 'yesterday', limit: 5, offset: 0 })).rejects.toThrow(InputError);
  });

  it('counts by field and lists logons newest first', async () => {
    const { siem } = loadSampleLab(tempHome());
    const destinations = await siem.countEvents({
      field: 'network.destinationIp',
      host: 'FIN-WS01',
      limit: 3,
    });
    expect(destinations.buckets[0]).toEqual({ value: sample.callbackIp, count: 5 });
    expect(destinations.buckets).toHaveLength(3);
    expect(destinations.total).toBeGreaterThan(5);
    const logons = await siem.logonHistory({ user: 'j.lindqvist', limit: 50 });
    expect(logons.map((logon) => logon.outcome)).toContain('failure');
    expect(logons[0]?.timestamp).toBe('2026-11-18T10:26:44.128Z');
    expect(await siem.logonHistory({ user: 'OTHERDOMAIN\\j.lindqvist', limit: 50 })).toEqual([]);
    expect(await siem.getEvent('sample-incident-9999')).toBeNull();
  });
});

describe('lab EDR', () => {
  it('builds the malicious process tree from GUID lineage', async () => {
    const { edr } = loadSampleLab(tempHome());
    const tree = await edr.processTree({ processGuid: sample.powershellGuid });
    expect(tree?.process.commandLine).toContain('-nop -w hidden -enc');
    expect(tree?.ancestors.map((node) => node.guid)).toEqual([
      sample.mshtaGuid,
      sample.outlookGuid,
      expect.any(String),
    ]);
    expect(tree?.descendants.map((node) => [node.guid, node.depth])).toEqual([
      [sample.whoamiGuid, 1],
      [sample.nltestGuid, 1],
    ]);
    const byPid = await edr.processTree({ host: 'FIN-WS01', pid: 6604 });
    expect(byPid?.process.guid).toBe(sample.powershellGuid);
    expect(await edr.processTree({ host: 'FIN-WS01', pid: 1 })).toBeNull();
    await expect(edr.processTree({ host: 'FIN-WS01' })).rejects.toThrow(InputError);
  });

  it('lists the callback connections and summarises a host', async () => {
    const { edr } = loadSampleLab(tempHome());
    const connections = await edr.networkConnections({ processGuid: sample.powershellGuid, limit: 100 });
    expect(connections).toHaveLength(5);
    expect(
      new Set(connections.map((connection) => `${connection.destinationIp}:${connection.destinationPort}`)),
    ).toEqual(new Set(['203.0.113.47:443']));
    const summary = await edr.hostSummary('10.20.0.10');
    expect(summary).toMatchObject({ host: 'DC01', criticality: 'critical', isolated: false });
    expect(summary?.users).toContain('HARBOURLINE\\m.okafor');
    expect(summary?.users.some((user) => user.endsWith('$'))).toBe(false);
    expect(await edr.hostSummary('NOPE-01')).toBeNull();
  });

  it('keeps the benign and the ambiguous activity free of external network traffic', async () => {
    const { edr } = loadSampleLab(tempHome());
    const admin = await edr.networkConnections({ processGuid: sample.adminPowershellGuid, limit: 100 });
    expect(admin.map((connection) => `${connection.destinationIp}:${connection.destinationPort}`)).toEqual([
      '10.20.0.20:5985',
      '10.20.0.20:5985',
    ]);
    expect(await edr.networkConnections({ processGuid: sample.rundllGuid, limit: 100 })).toEqual([]);
    const rundll = await edr.processTree({ processGuid: sample.rundllGuid });
    expect(rundll?.process.commandLine).toContain('AppData\\Local\\PdfPrintHelper\\pphelper64.dll');
  });

  it('persists isolation in <home>/lab/endpoints.json across backend instances', async () => {
    const home = tempHome();
    const first = loadSampleLab(home, { now: fixedNow });
    const isolated = await first.edr.isolateHost('fin-ws01', 'encoded PowerShell beaconing to 203.0.113.47');
    expect(isolated).toMatchObject({
      host: 'FIN-WS01',
      changed: true,
      state: 'isolated',
      at: '2026-11-18T11:00:00.000Z',
    });
    const second = loadSampleLab(home);
    expect((await second.edr.hostSummary('FIN-WS01'))?.isolated).toBe(true);
    expect((await second.edr.isolateHost('FIN-WS01', 'again')).changed).toBe(false);
    expect((await second.edr.releaseHost('FIN-WS01', 'reimaged')).changed).toBe(true);
    expect((await first.edr.hostSummary('FIN-WS01'))?.isolated).toBe(false);
    await expect(first.edr.isolateHost('GHOST-99', 'x')).rejects.toThrow(StateError);
  });

  it('kills a running process once and refuses processes that exited or live elsewhere', async () => {
    const home = tempHome();
    const { edr } = loadSampleLab(home);
    const killed = await edr.killProcess({
      host: 'FIN-WS01',
      processGuid: sample.powershellGuid,
      reason: 'C2 beacon',
    });
    expect(killed).toMatchObject({ state: 'killed', changed: true });
    const again = await loadSampleLab(home).edr.killProcess({ host: 'FIN-WS01', pid: 6604, reason: 'again' });
    expect(again).toMatchObject({ state: 'not_running', changed: false });
    const exited = await edr.killProcess({ host: 'FIN-WS01', processGuid: sample.whoamiGuid, reason: 'x' });
    expect(exited.state).toBe('not_running');
    await expect(
      edr.killProcess({ host: 'IT-WS01', processGuid: sample.powershellGuid, reason: 'x' }),
    ).rejects.toThrow(/runs on FIN-WS01/);
    await expect(edr.killProcess({ host: 'FIN-WS01', reason: 'x' })).rejects.toThrow(InputError);
  });
});

describe('lab intel', () => {
  it('finds the callback infrastructure and leaves benign services unknown', async () => {
    const { intel } = loadSampleLab(tempHome());
    const ip = await intel.lookupIndicator(sample.callbackIp);
    expect(ip).toMatchObject({
      type: 'ip',
      verdict: 'malicious',
      matches: [{ source: 'sample-lab', family: 'remitloader' }],
    });
    expect(ip.matches[0]?.reference).toMatch(/^https:\/\//);
    expect(await intel.lookupIndicator(sample.callbackDomain)).toMatchObject({
      type: 'domain',
      verdict: 'malicious',
    });
    expect(await intel.lookupIndicator('hxxps://cdn.remitvault-docs[.]com/other/path')).toMatchObject({
      type: 'url',
      verdict: 'malicious',
    });
    expect(await intel.lookupIndicator('203.0.113.52')).toMatchObject({ verdict: 'malicious' });
    expect(await intel.lookupIndicator('outlook.office365.com')).toMatchObject({
      verdict: 'unknown',
      matches: [],
    });
    expect(await intel.lookupIndicator('remitvault-docs.com.evil.example')).toMatchObject({
      verdict: 'unknown',
    });
    await expect(intel.lookupIndicator('not-an-ip', 'ip')).rejects.toThrow(InputError);
  });

  it('looks up techniques in several spellings', async () => {
    const { intel } = loadSampleLab(tempHome());
    expect(await intel.lookupTechnique('attack.t1218.005')).toMatchObject({
      id: 'T1218.005',
      name: 'Mshta',
      url: 'https://attack.mitre.org/techniques/T1218/005/',
    });
    expect((await intel.lookupTechnique('T1053/005'))?.tactics).toContain('persistence');
    expect(await intel.lookupTechnique('T9999')).toBeNull();
    await expect(intel.lookupTechnique('mshta')).rejects.toThrow(InputError);
  });
});

describe('lab tickets', () => {
  it('persists tickets, comments and status in <home>/lab/tickets.json', async () => {
    const home = tempHome();
    const created = await loadSampleLab(home, { now: fixedNow }).tickets.createTicket({
      title: 'Mshta → PowerShell on FIN-WS01',
      severity: 'high',
      body: 'C2 to 203.0.113.47',
      alertId: 'a-20261118-0001',
    });
    expect(created).toMatchObject({
      id: 'TKT-0001',
      status: 'open',
      alertId: 'a-20261118-0001',
      runId: null,
      createdAt: '2026-11-18T11:00:00.000Z',
    });
    const other = loadSampleLab(home).tickets;
    await other.createTicket({ title: 'second', severity: 'low', body: 'b' });
    expect((await other.listTickets({ limit: 10 })).map((ticket) => ticket.id)).toEqual([
      'TKT-0002',
      'TKT-0001',
    ]);
    await other.addComment('tkt-0001', 'host isolated');
    const closed = await other.updateStatus('TKT-0001', 'closed', 'true positive, contained');
    expect(closed).toMatchObject({
      status: 'closed',
      resolution: 'true positive, contained',
      comments: [{ text: 'host isolated' }],
    });
    expect(
      (await loadSampleLab(home).tickets.listTickets({ status: 'closed', limit: 10 })).map(
        (ticket) => ticket.id,
      ),
    ).toEqual(['TKT-0001']);
    await expect(other.addComment('TKT-0404', 'x')).rejects.toThrow(StateError);
    expect(await other.getTicket('TKT-0404')).toBeNull();
  });

  it('loses no update when several backend instances write at once', async () => {
    const home = tempHome();
    const instances = Array.from({ length: 4 }, () => loadSampleLab(home).tickets);
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        instances[index % 4]!.createTicket({ title: `t${index}`, severity: 'low', body: 'b' }),
      ),
    );
    const tickets = await loadSampleLab(home).tickets.listTickets({ limit: 100 });
    expect(tickets).toHaveLength(20);
    expect(new Set(tickets.map((ticket) => ticket.id)).size).toBe(20);
  });
});

describe('sample alerts', () => {
  const alertsDir = join(sampleLabDir, '..', 'alerts');
  const alerts = readdirSync(alertsDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({
      name,
      alert: JSON.parse(readFileSync(join(alertsDir, name), 'utf8')) as Record<string, unknown>,
    }));

  it('has one generic-alert-v1 file per activity, each pointing at a real process of its host', async () => {
    expect(alerts.map(({ name }) => name).sort()).toEqual([
      'admin-powershell.json',
      'mshta-powershell.json',
      'rundll32-user-dll.json',
    ]);
    const { edr } = loadSampleLab(tempHome());
    for (const { name, alert } of alerts) {
      expect(alert, name).toMatchObject({
        id: expect.any(String),
        title: expect.any(String),
        time: expect.stringMatching(/^2026-11-18T/),
      });
      expect(['informational', 'low', 'medium', 'high', 'critical'], name).toContain(alert.severity);
      const event = alert.event as Record<string, string>;
      const tree = await edr.processTree({ processGuid: event.ProcessGuid });
      expect(tree?.process.host.split('.')[0], name).toBe(alert.host);
      expect(tree?.process.commandLine, name).toBe(event.CommandLine);
    }
    const malicious = alerts.find(({ name }) => name === 'mshta-powershell.json')?.alert ?? {};
    expect((malicious.event as Record<string, string>).ProcessGuid).toBe(sample.powershellGuid);
    expect((malicious.rule as { tags: string[] }).tags).toEqual(
      expect.arrayContaining(['attack.t1218.005', 'attack.t1059.001']),
    );
    expect(alerts.find(({ name }) => name === 'admin-powershell.json')?.alert.severity).toBe('medium');
  });
});
