import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../../src/lab/sigma/index.js';
import { fixtures, hasSharedDatasets, sharedDatasets } from './helpers.js';

describe('runConformance on fixtures', () => {
  it('passes evtx cases (Sysmon and Security 4688) and raw keyword cases', async () => {
    const report = await runConformance(join(fixtures, 'regression'), [join(fixtures, 'rules')]);
    expect(report.results).toEqual([
      { type: 'pass', case: 'network/cisco_keyword', ruleId: '7c1a0d2e-0000-4000-8000-000000000007' },
      { type: 'pass', case: 'windows/proc_whoami_security', ruleId: '7c1a0d2e-0000-4000-8000-000000000001' },
      { type: 'pass', case: 'windows/proc_whoami_sysmon', ruleId: '7c1a0d2e-0000-4000-8000-000000000001' },
    ]);
    expect(report).toMatchObject({ total: 3, passed: 3, passRate: 1 });
  });

  it('reads evtx_dump files holding several objects one after another, and honours match_count', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'warden-sigma-'));
    try {
      const source = join(fixtures, 'regression', 'windows', 'proc_whoami_sysmon');
      const target = join(directory, 'case');
      cpSync(source, target, { recursive: true });
      const file = join(target, '7c1a0d2e-0000-4000-8000-000000000001.json');
      const events = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
      // SigmaHQ dumps concatenate pretty-printed objects without an enclosing array.
      writeFileSync(file, events.map((event) => JSON.stringify(event, null, 2)).join('\n'));
      const passing = await runConformance(directory, [join(fixtures, 'rules')]);
      expect(passing.results).toEqual([
        { type: 'pass', case: 'case', ruleId: '7c1a0d2e-0000-4000-8000-000000000001' },
      ]);
      const info = join(target, 'info.yml');
      writeFileSync(info, readFileSync(info, 'utf8').replace('match_count: 1', 'match_count: 2'));
      const strict = await runConformance(directory, [join(fixtures, 'rules')]);
      expect(strict.results[0]).toMatchObject({
        type: 'fail',
        reason: '1 of 2 events match the rule, expected at least 2',
      });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reports a malformed case as a failure and goes on with the others', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'warden-sigma-'));
    try {
      cpSync(join(fixtures, 'regression', 'windows'), directory, { recursive: true });
      writeFileSync(join(directory, 'proc_whoami_security', 'info.yml'), 'id: x\ndescription: no rule ids\n');
      const report = await runConformance(directory, [join(fixtures, 'rules')]);
      expect(report.results).toEqual([
        {
          type: 'fail',
          case: 'proc_whoami_security',
          ruleId: '',
          reason: expect.stringMatching(/info\.yml: field rule_metadata\[\]\.id is missing$/),
        },
        { type: 'pass', case: 'proc_whoami_sysmon', ruleId: '7c1a0d2e-0000-4000-8000-000000000001' },
      ]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reports a case whose event does not match, and a rule it cannot find', async () => {
    const failing = await runConformance(join(fixtures, 'regression-failing'), [join(fixtures, 'rules')]);
    expect(failing.results).toEqual([
      {
        type: 'fail',
        case: 'windows/ps_no_match',
        ruleId: '7c1a0d2e-0000-4000-8000-000000000003',
        reason: '0 of 1 events match the rule, expected at least 1',
      },
    ]);
    const missing = await runConformance(join(fixtures, 'regression'), [join(fixtures, 'invalid')]);
    expect(missing.passed).toBe(0);
    expect(missing.results[0]).toMatchObject({
      type: 'fail',
      reason: 'rule not found in the rule directories',
    });
  });
});

describe.skipIf(!hasSharedDatasets)('runConformance on the SigmaHQ regression data', () => {
  it('passes every case in ../shared/datasets/sigma/regression_data', async () => {
    const report = await runConformance(join(sharedDatasets, 'sigma', 'regression_data'));
    const failures = report.results.filter((result) => result.type === 'fail');
    expect(failures).toEqual([]);
    expect(report.total).toBeGreaterThanOrEqual(126);
    expect(report.passRate).toBe(1);
  });
});

if (!hasSharedDatasets)
  console.warn(`skipping the SigmaHQ conformance run: ${sharedDatasets}/sigma/regression_data is absent`);
