import { describe, expect, it } from 'vitest';
import { parseAlerts } from '../../src/agent/alert.js';
import { InputError } from '../../src/errors.js';

const good = {
  id: 'a-1',
  title: 'Mshta spawned PowerShell',
  severity: 'high',
  time: '2026-11-18T09:14:03Z',
  vendorField: { x: 1 },
};

describe('parseAlerts', () => {
  it('reads one object and keeps unknown fields', () => {
    expect(parseAlerts(JSON.stringify(good), 'a.json')).toEqual([good]);
  });
  it('reads JSON lines and arrays', () => {
    const lines = `${JSON.stringify(good)}\n\n${JSON.stringify({ ...good, id: 'a-2' })}\n`;
    expect(parseAlerts(lines, 'a.jsonl').map((alert) => alert.id)).toEqual(['a-1', 'a-2']);
    expect(parseAlerts(JSON.stringify([good]), 'a.json')).toHaveLength(1);
  });
  it.each([
    ['', /no alert found/],
    [
      JSON.stringify({ ...good, severity: 'urgent' }),
      /field 'severity' is invalid; expected one of informational/,
    ],
    [JSON.stringify({ ...good, title: undefined }), /field 'title' is missing/],
    [JSON.stringify({ ...good, time: 'yesterday' }), /field 'time' is invalid/],
    [`${JSON.stringify(good)}\n{"id":`, /line 2: not valid JSON/],
    [`${JSON.stringify(good)}\n${JSON.stringify({ ...good, id: '' })}`, /line 2: field 'id'/],
    ['"just a string"', /must be a JSON object/],
  ])('rejects bad input %# with the field or line named, returning nothing', (text, pattern) => {
    expect(() => parseAlerts(text, 'in.json')).toThrow(InputError);
    expect(() => parseAlerts(text, 'in.json')).toThrow(pattern);
  });
});
