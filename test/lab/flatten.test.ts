import { describe, expect, it } from 'vitest';
import { flattenWindowsEvent } from '../../src/lab/index.js';
import { detection } from './sigma/helpers.js';

/** An evtx_dump record of the Application log with the given EventData. */
function applicationEvent(eventData: unknown) {
  return {
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'MSSQLSERVER' } },
        EventID: 33205,
        TimeCreated: { '#attributes': { SystemTime: '2024-05-01T10:00:00.000Z' } },
        Channel: 'Application',
        Computer: 'SQL01.corp.example',
      },
      EventData: eventData,
    },
  };
}

describe('flattenWindowsEvent: unnamed <Data> items', () => {
  it('keeps repeated unnamed items as a Data list, in document order', () => {
    expect(flattenWindowsEvent(applicationEvent({ Data: ['first', 'second'] })).Data).toEqual([
      'first',
      'second',
    ]);
    expect(flattenWindowsEvent(applicationEvent({ Data: { '#text': ['a', 'b', 'c'] } })).Data).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('keeps a single unnamed item as a string and named items as fields beside it', () => {
    expect(flattenWindowsEvent(applicationEvent({ Data: { '#text': 'only' } })).Data).toBe('only');
    expect(flattenWindowsEvent(applicationEvent({ Data: 'bare' })).Data).toBe('bare');
    const mixed = flattenWindowsEvent(
      applicationEvent({
        Data: [{ '#attributes': { Name: 'Image' }, '#text': 'C:\\x.exe' }, 'unnamed', { '#text': 'also' }],
        Binary: '00FF',
      }),
    );
    expect(mixed).toMatchObject({ Image: 'C:\\x.exe', Data: ['unnamed', 'also'], Binary: '00FF' });
  });

  it('adds no Data field when there is no unnamed item', () => {
    const named = flattenWindowsEvent(
      applicationEvent({ Data: [{ '#attributes': { Name: 'A' }, '#text': '1' }] }),
    );
    expect(named).toMatchObject({ A: '1' });
    expect('Data' in named).toBe(false);
    expect('Data' in flattenWindowsEvent(applicationEvent(null))).toBe(false);
  });

  it('lets a Sigma rule on Data (the MSSQL xp_cmdshell audit shape) match across unnamed items', () => {
    const matches = detection(`
selection:
    Provider_Name|contains: MSSQL
    EventID: 33205
    Data|contains|all:
        - 'object_name:xp_cmdshell'
        - 'statement:EXEC'
condition: selection`);
    const audit = applicationEvent({
      Data: ['audit_schema_version:1', 'object_name:xp_cmdshell', "statement:EXEC xp_cmdshell 'whoami'"],
    });
    expect(matches(flattenWindowsEvent(audit))).toBe(true);
    const other = applicationEvent({ Data: ['object_name:sp_who', 'statement:EXEC sp_who'] });
    expect(matches(flattenWindowsEvent(other))).toBe(false);
  });
});
