import { describe, expect, it } from 'vitest';
import { compactForModel, fitForModel } from '../../src/agent/shrink.js';

const event = (index: number) => ({
  id: `e-${index}`,
  commandLine: `cmd ${index}`,
  raw: { CommandLine: `cmd ${index}`, Padding: 'x'.repeat(400) },
});

describe('fitForModel', () => {
  it('leaves a result that fits untouched', () => {
    const page = { events: [event(1)], total: 1, nextOffset: null };
    expect(fitForModel(page, 10_000)).toBe(page);
  });

  it('cuts the largest array, keeps the structure, and says how much it cut', () => {
    const page = {
      events: Array.from({ length: 100 }, (_, index) => event(index)),
      total: 100,
      nextOffset: null,
    };
    const shown = fitForModel(page, 8_000) as { events: unknown[]; eventsOmitted: number; total: number };
    expect(JSON.stringify(shown).length).toBeLessThanOrEqual(8_000);
    expect(shown.events[0]).toEqual(event(0));
    expect(shown.events.length + shown.eventsOmitted).toBe(100);
    expect(shown.total).toBe(100);
    expect(page.events).toHaveLength(100);
  });

  it('clips very long strings and names what it cut', () => {
    const shown = fitForModel({ script: 'A'.repeat(50_000) }, 5_000) as { script: string };
    expect(shown.script).toMatch(/^A{2000}… \[48000 characters cut\]$/);
  });

  it('asks for a narrower query when nothing can be cut', () => {
    const wide = Object.fromEntries(
      Array.from({ length: 500 }, (_, index) => [`field${index}`, 'y'.repeat(100)]),
    );
    expect(fitForModel(wide, 2_000)).toMatchObject({
      error: 'result_too_large',
      message: expect.stringMatching(/narrow the query/),
    });
  });
});

describe('compactForModel', () => {
  const sysmon = {
    id: 'e-1',
    host: 'WS01.corp.example',
    eventCode: 1,
    process: { guid: '{A}', pid: 6604, image: 'C:\\Windows\\cmd.exe', commandLine: 'cmd /c whoami' },
    parent: null,
    network: null,
    message: null,
    raw: {
      Hostname: 'WS01.corp.example',
      EventID: 1,
      ProcessId: '6604',
      Image: 'C:\\Windows\\cmd.exe',
      CommandLine: 'cmd /c whoami',
      Hashes: 'SHA256=ABC',
      IntegrityLevel: 'High',
      RuleName: '',
      ParentUser: null,
      Nested: { Image: 'C:\\Windows\\cmd.exe' },
    },
  };

  it('drops null fields and the raw fields that repeat a normalised value, keeping what only raw has', () => {
    expect(compactForModel({ events: [sysmon], total: 1, nextOffset: null })).toEqual({
      events: [
        {
          id: 'e-1',
          host: 'WS01.corp.example',
          eventCode: 1,
          process: sysmon.process,
          raw: { Hashes: 'SHA256=ABC', IntegrityLevel: 'High', Nested: { Image: 'C:\\Windows\\cmd.exe' } },
        },
      ],
      total: 1,
    });
  });

  it('leaves out a raw record with nothing new, and does not touch the value it was given', () => {
    const bare = { id: 'e-2', host: 'H', raw: { Hostname: 'H', Empty: '' } };
    expect(compactForModel(bare)).toEqual({ id: 'e-2', host: 'H' });
    expect(bare.raw).toEqual({ Hostname: 'H', Empty: '' });
  });

  it('drops a raw time that is the normalised timestamp written another way, keeps any other time', () => {
    const event = {
      timestamp: '2026-11-18T09:14:34.877Z',
      raw: {
        UtcTime: '2026-11-18 09:14:34.877',
        '@timestamp': '2026-11-18T09:14:34.877Z',
        TimeCreated: '2026-11-18T09:14:34.8770000Z',
        Precise: '2026-11-18T09:14:34.8771234Z',
        Local: '2026-11-18T10:14:34.877+01:00',
        CreationUtcTime: '2026-11-18 09:10:00.000',
        Later: '2026-11-18 09:14:35.877',
      },
    };
    expect(compactForModel(event)).toEqual({
      timestamp: '2026-11-18T09:14:34.877Z',
      raw: {
        Precise: '2026-11-18T09:14:34.8771234Z',
        Local: '2026-11-18T10:14:34.877+01:00',
        CreationUtcTime: '2026-11-18 09:10:00.000',
        Later: '2026-11-18 09:14:35.877',
      },
    });
  });

  it('keeps a raw value that differs from every normalised one, even when it contains one', () => {
    const access = {
      process: { image: 'C:\\a.exe' },
      raw: { SourceImage: 'C:\\a.exe', TargetImage: 'C:\\Windows\\lsass.exe' },
    };
    expect(compactForModel(access)).toEqual({
      process: { image: 'C:\\a.exe' },
      raw: { TargetImage: 'C:\\Windows\\lsass.exe' },
    });
  });
});
