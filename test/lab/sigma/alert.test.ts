import { describe, expect, it } from 'vitest';
import { normaliseEvent } from '../../../src/lab/normalise.js';
import { matchToAlert, normaliseTime } from '../../../src/lab/sigma/index.js';
import { rule, ruleText } from './helpers.js';

const sigmaRule = rule(
  `${ruleText("selection:\n  Image|endswith: '\\mshta.exe'\ncondition: selection")}\ndescription: |\n    Mshta spawned something.\n`,
);

describe('matchToAlert', () => {
  const event = {
    EventID: 1,
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    UtcTime: '2020-10-22 02:58:00.489',
    Computer: 'WORKSTATION5',
    User: 'WORKSTATION5\\wardog',
    Image: 'C:\\Windows\\System32\\mshta.exe',
  };

  it('builds a generic alert v1 from the rule and the event', () => {
    expect(matchToAlert(sigmaRule, event, 'evt-1')).toEqual({
      id: expect.stringMatching(/^sigma-[0-9a-f]{24}$/),
      title: 'Test rule',
      severity: 'high',
      time: '2020-10-22T02:58:00.489Z',
      source: 'sigma',
      host: 'WORKSTATION5',
      user: 'WORKSTATION5\\wardog',
      rule: {
        id: '00000000-0000-4000-8000-000000000001',
        title: 'Test rule',
        tags: ['attack.execution', 'attack.t1059.001'],
        level: 'high',
        author: 'Warden tests',
      },
      event,
      description: 'Mshta spawned something.',
    });
  });

  it('takes the time the event store files the event under, so a window around the alert holds the event', () => {
    // Recorded skew: Sysmon's UtcTime 16 h after the collector's @timestamp, which the store uses.
    const skewed = { ...event, '@timestamp': '2020-10-21T08:45:41.335Z', UtcTime: '2020-10-22 00:45:41.335' };
    expect(matchToAlert(sigmaRule, skewed, 'evt-1').time).toBe('2020-10-21T08:45:41.335Z');
    expect(normaliseEvent(skewed, 'skew-1').timestamp).toBe(matchToAlert(sigmaRule, skewed, 'evt-1').time);
  });

  it('keeps the id stable per (rule, event) and distinct otherwise', () => {
    const first = matchToAlert(sigmaRule, event, 'evt-1').id;
    expect(matchToAlert(sigmaRule, { ...event }, 'evt-1').id).toBe(first);
    expect(matchToAlert(sigmaRule, event, 'evt-2').id).not.toBe(first);
    expect(matchToAlert({ ...sigmaRule, id: 'other' }, event, 'evt-1').id).not.toBe(first);
  });

  it('reads host and user from Security-Datasets and Security fields, and falls back to now for time', () => {
    const alert = matchToAlert(
      { ...sigmaRule, level: undefined },
      { Hostname: 'WS6.mordor.local', SubjectDomainName: 'MORDOR', SubjectUserName: 'pgustavo' },
      'x',
      { now: () => new Date('2026-01-01T00:00:00Z') },
    );
    expect(alert).toMatchObject({
      host: 'WS6.mordor.local',
      user: 'MORDOR\\pgustavo',
      severity: 'medium',
      time: '2026-01-01T00:00:00.000Z',
    });
  });

  it('normalises the time formats of evtx, Sysmon and NXLog to ISO', () => {
    expect(normaliseTime('2025-11-27T07:40:10.165324Z')).toBe('2025-11-27T07:40:10.165Z');
    expect(normaliseTime('2025-11-27 07:40:10.132')).toBe('2025-11-27T07:40:10.132Z');
    expect(normaliseTime('2020-06-09 22:50:54')).toBe('2020-06-09T22:50:54.000Z');
    expect(normaliseTime('2020-06-10T02:50:56.537Z')).toBe('2020-06-10T02:50:56.537Z');
    expect(normaliseTime('2020-06-10T04:50:56+02:00')).toBe('2020-06-10T02:50:56.000Z');
    expect(normaliseTime('yesterday')).toBeUndefined();
    expect(normaliseTime(undefined)).toBeUndefined();
  });
});
