import { describe, expect, it } from 'vitest';
import { createHashTable } from '../../../src/lab/intel/hash-table.js';

describe('hash table', () => {
  it('keeps every key through growth, with its origins de-duplicated, and finds no absent key', () => {
    const table = createHashTable();
    for (let index = 0; index < 50_000; index += 1) table.add(`host-${index}.example`, index % 7);
    expect(table.add('host-7.example', 3)).toBe(true);
    expect(table.add('host-7.example', 3)).toBe(false);
    expect(table.add('host-7.example', 4)).toBe(true);
    expect(table.size).toBe(50_000);
    expect(table.get('host-7.example')).toEqual([0, 3, 4]);
    expect(table.get('host-49999.example')).toEqual([49_999 % 7]);
    for (let index = 50_000; index < 60_000; index += 1)
      expect(table.get(`host-${index}.example`)).toBeUndefined();
    expect(table.get('')).toBeUndefined();
  });
});
