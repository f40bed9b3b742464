import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../src/lab/loaders/index.js';
import { createLineSplitter, createRecordReader } from '../../../src/lab/loaders/index.js';

function read(text: string, chunkSize = 7): { records: SourceRecord[]; errors: Array<[number, string]> } {
  const records: SourceRecord[] = [];
  const errors: Array<[number, string]> = [];
  const reader = createRecordReader({
    onRecord: (record) => records.push(record),
    onError: (line, message) => errors.push([line, message]),
  });
  const splitter = createLineSplitter(reader.onLine);
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += chunkSize) splitter.push(bytes.subarray(at, at + chunkSize));
  splitter.end();
  reader.end();
  return { records, errors };
}

describe('lab record reader', () => {
  it('splits JSON lines across chunk boundaries, multi-byte characters included, and keeps each line as recorded', () => {
    const { records, errors } = read('{"a":"é€"}\r\n\n{"a":2}\n{"a":3}', 3);
    expect(errors).toEqual([]);
    expect(records.map((record) => [record.line, record.record.a, record.text])).toEqual([
      [1, 'é€', '{"a":"é€"}'],
      [3, 2, '{"a":2}'],
      [4, 3, '{"a":3}'],
    ]);
  });

  it('reports a corrupt line with its number and reads the lines after it', () => {
    const { records, errors } = read('{"a":1}\n{"a": tru\n[1]\n{"a":4}\n');
    expect(records.map((record) => record.line)).toEqual([1, 4]);
    expect(errors.map(([line]) => line)).toEqual([2, 3]);
    expect(errors[0]?.[1]).toMatch(/not valid JSON/);
    expect(errors[1]?.[1]).toBe('expected a JSON object');
  });

  it('reads concatenated pretty-printed documents (evtx_dump) with the line each starts on', () => {
    const doc = (id: number) =>
      JSON.stringify({ Event: { System: { EventID: id }, EventData: { x: '}{' } } }, null, 2);
    const { records, errors } = read(`${doc(1)}\n${doc(2)}\n`);
    expect(errors).toEqual([]);
    expect(records.map((record) => [record.line, record.text])).toEqual([
      [1, null],
      [doc(1).split('\n').length + 1, null],
    ]);
  });

  it('falls back to JSON lines when the first line is a corrupt object, losing only that line', () => {
    const { records, errors } = read('{"a": 1, "b":\n{"a":2}\n{"a":3}\n');
    expect(records.map((record) => record.record.a)).toEqual([2, 3]);
    expect(errors.map(([line]) => line)).toEqual([1]);
  });
});
