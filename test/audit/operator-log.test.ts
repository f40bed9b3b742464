import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  appendOperatorEvent,
  loadSigningKey,
  operatorLogPath,
  readOperatorLog,
  verifyOperatorLog,
} from '../../src/audit/index.js';
import { tempHome } from '../helpers.js';

async function logOfThree() {
  const home = tempHome();
  const key = loadSigningKey(home, {});
  await appendOperatorEvent(home, key, { type: 'kill-switch-engage', by: 'carol', data: { switchId: 'k1' } });
  await appendOperatorEvent(home, key, { type: 'credential-mint', by: 'dan', data: { credentialId: 'c1' } });
  await appendOperatorEvent(home, key, {
    type: 'kill-switch-release',
    by: 'carol',
    data: { switchId: 'k1' },
  });
  const path = operatorLogPath(home);
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  return { home, key, path, lines };
}

describe('operator log', () => {
  it('chains and signs every operator action, in order, across concurrent writers', async () => {
    const { home, key } = await logOfThree();
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        appendOperatorEvent(home, key, { type: 'autonomy-change', by: `op${index}`, data: { index } }),
      ),
    );
    expect(verifyOperatorLog(home, key)).toEqual({ status: 'ok', events: 11 });
    expect(readOperatorLog(home).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(readOperatorLog(home)[0]).toMatchObject({ type: 'kill-switch-engage', by: 'carol' });
  });

  it.each([
    [
      'an edited entry',
      (lines: string[]) => [lines[0], lines[1]?.replace('"dan"', '"eve"'), lines[2]],
      2,
      /changed/,
    ],
    ['a deleted entry', (lines: string[]) => [lines[0], lines[2]], 2, /seq 3, expected 2/],
    ['a reordering', (lines: string[]) => [lines[0], lines[2], lines[1]], 2, /seq 3, expected 2/],
    ['garbage', (lines: string[]) => [lines[0], '{not json', lines[2]], 2, /not valid JSON/],
  ])('names the first bad entry after %s', async (_name, tamper, firstBad, problem) => {
    const { home, key, path, lines } = await logOfThree();
    writeFileSync(path, `${tamper(lines).join('\n')}\n`);
    const report = verifyOperatorLog(home, key);
    expect(report).toMatchObject({ status: 'broken', firstBadSeq: firstBad });
    expect(report.status === 'broken' && report.problem).toMatch(problem);
  });

  it('chains a new entry to the last good one after a torn last line', async () => {
    const { home, key, path, lines } = await logOfThree();
    writeFileSync(path, `${lines.join('\n')}\n${lines[2]?.slice(0, 40)}`);
    const next = await appendOperatorEvent(home, key, { type: 'kill-switch-engage', by: 'carol', data: {} });
    expect(next).toMatchObject({ seq: 4, prev: JSON.parse(lines[2] ?? '{}').hash });
    // The torn line itself stays for verify to report.
    expect(verifyOperatorLog(home, key)).toMatchObject({ status: 'broken', firstBadSeq: 4 });
  });

  it('finds the last entry of a log longer than one read, with lines and characters across read boundaries', async () => {
    const home = tempHome();
    const key = loadSigningKey(home, {});
    // Entries of about 50 KB of two-byte characters: reads of 64 KB cut lines and characters.
    for (let index = 0; index < 5; index++)
      await appendOperatorEvent(home, key, {
        type: 'autonomy-change',
        by: 'carol',
        data: { note: 'ü'.repeat(25_000 + index * 997) },
      });
    const last = await appendOperatorEvent(home, key, { type: 'kill-switch-engage', by: 'dan', data: {} });
    expect(last.seq).toBe(6);
    expect(verifyOperatorLog(home, key)).toEqual({ status: 'ok', events: 6 });
  });

  it('refuses an entry re-hashed by someone without the key', async () => {
    const { home, key, path, lines } = await logOfThree();
    const forged = JSON.parse(lines[2] ?? '{}');
    forged.by = 'mallory';
    const other = loadSigningKey(tempHome(), {});
    const resigned = await appendOperatorEvent(tempHome(), other, {
      type: forged.type,
      by: forged.by,
      data: forged.data,
    });
    writeFileSync(
      path,
      `${[lines[0], lines[1], JSON.stringify({ ...resigned, seq: 3, prev: forged.prev })].join('\n')}\n`,
    );
    const report = verifyOperatorLog(home, key);
    expect(report).toMatchObject({ status: 'broken', firstBadSeq: 3 });
  });
});
