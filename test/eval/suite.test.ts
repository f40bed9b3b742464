import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite, parseCases } from '../../src/eval/index.js';
import { tempHome } from '../helpers.js';

const alert = { id: 'a1', title: 't', severity: 'high', time: '2026-01-01T00:00:00Z' };
const line = (value: unknown) => JSON.stringify(value);

describe('eval suite loading', () => {
  it('loads the sample suite with datasets resolved against the suite directory', async () => {
    const suite = await loadSuite('test/fixtures/eval/sample-suite');
    expect(suite.name).toBe('sample-incident');
    expect(suite.datasets[0]).toMatch(/examples\/lab\/sample-incident\.jsonl$/);
    expect(suite.cases.map((evalCase) => evalCase.expected.verdict)).toContain('benign');
  });

  it('names the file, line and field of a bad case', () => {
    const good = line({ id: 'c1', alert, expected: { verdict: 'benign' } });
    expect(() => parseCases(`${good}\n{not json`, 'cases.jsonl')).toThrow(
      /cases\.jsonl line 2: not valid JSON/,
    );
    expect(() =>
      parseCases(`${good}\n${line({ id: 'c2', alert, expected: { verdict: 'suspicious' } })}`, 'x'),
    ).toThrow(/x line 2: field 'expected\.verdict' is invalid/);
    expect(() =>
      parseCases(
        line({ id: 'c1', alert: { ...alert, severity: 'urgent' }, expected: { verdict: 'benign' } }),
        'x',
      ),
    ).toThrow(/x line 1 alert: field 'severity'/);
    expect(() => parseCases(`${good}\n${good}`, 'x')).toThrow(/case id 'c1' repeats line 1/);
    expect(() =>
      parseCases(
        line({ id: 'c1', alert, expected: { verdict: 'malicious', techniques: ['mimikatz'] } }),
        'x',
      ),
    ).toThrow(/field 'expected\.techniques\.0'/);
    expect(() => parseCases('\n', 'x')).toThrow(/no cases/);
  });

  it('names the suite file and field of a bad suite.yaml', async () => {
    const dir = join(tempHome('warden-suite-'), 's');
    mkdirSync(dir);
    writeFileSync(join(dir, 'suite.yaml'), 'name: "bad name!"\n');
    await expect(loadSuite(dir)).rejects.toThrow(/suite\.yaml: field 'name' is invalid/);
    writeFileSync(join(dir, 'suite.yaml'), 'name: ok\ncases: missing.jsonl\n');
    await expect(loadSuite(dir)).rejects.toThrow(/cannot read eval cases .*missing\.jsonl: ENOENT/);
  });
});
