import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { buildReport, loadSuite, runSuite } from '../../src/eval/index.js';
import { openStore } from '../../src/store/index.js';
import { tempHome, tsxArgs } from '../helpers.js';

const run = promisify(execFile);
const suiteDir = resolve('test/fixtures/eval/sample-suite');

describe('warden eval on the shipped sample incident', () => {
  it('triages every case concurrently, persists each result, and resumes without redoing finished cases', async () => {
    const home = tempHome('warden-eval-');
    const suite = await loadSuite(suiteDir);
    const config = configSchema.parse({});
    const first = await runSuite({ suite, config, configPath: null, home, concurrency: 3, resume: false });
    expect(first.results.map((result) => result.caseId)).toEqual(suite.cases.map((evalCase) => evalCase.id));
    expect(first.results.every((result) => result.runId?.startsWith('run-') && result.toolCalls > 0)).toBe(
      true,
    );
    const byId = new Map(first.results.map((result) => [result.caseId, result]));
    expect(byId.get('mshta-powershell')?.got).toBe('malicious');
    expect(byId.get('admin-powershell')?.got).toBe('benign');
    expect(byId.get('mshta-powershell')?.status).toBe('completed');
    expect(readFileSync(first.resultsFile, 'utf8').trim().split('\n')).toHaveLength(suite.cases.length);
    // An eval never acts: what the verdict recommends is recorded as denied, nothing is executed or left pending.
    const store = await openStore({ home: first.home });
    try {
      const runId = byId.get('mshta-powershell')?.runId ?? '';
      const state = (await store.runs.get(runId))?.state as
        | { actions: Array<{ status: string }> }
        | undefined;
      const actions = state?.actions ?? [];
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.every((action) => action.status === 'denied')).toBe(true);
      expect(await store.approvals.list({ limit: 10 })).toEqual([]);
    } finally {
      await store.close();
    }

    // An interrupted run: keep two results, resume, and only the rest is triaged again.
    const kept = readFileSync(first.resultsFile, 'utf8').trim().split('\n').slice(0, 2);
    writeFileSync(first.resultsFile, `${kept.join('\n')}\n{"caseId": "cut-sh`);
    const resumed = await runSuite({ suite, config, configPath: null, home, concurrency: 2, resume: true });
    expect(resumed.resumed).toBe(2);
    expect(resumed.results).toHaveLength(suite.cases.length);
    const keptIds = kept.map((line) => (JSON.parse(line) as { runId: string }).runId);
    expect(resumed.results.filter((result) => keptIds.includes(result.runId ?? '')).length).toBe(2);

    const report = buildReport({
      suite: suite.name,
      provider: 'offline',
      home: first.home,
      results: resumed.results,
      auditCommand: (runId) => `warden audit show ${runId}`,
    });
    expect(report.metrics.cases).toBe(suite.cases.length);
    expect(report.metrics.confusion.malicious.malicious + report.metrics.confusion.malicious.suspicious).toBe(
      report.metrics.malicious - report.falseNegatives.length,
    );
  }, 240_000);

  it('writes JSON and HTML reports from the CLI and fails the regression gate naming the metric', async () => {
    const home = tempHome('warden-eval-cli-');
    const reportFile = join(home, 'report.json');
    const htmlFile = join(home, 'report.html');
    const cli = (...args: string[]) =>
      run(process.execPath, tsxArgs('src/cli/main.ts', '--home', home, 'eval', ...args), {
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 240_000,
      });
    const { stdout } = await cli(suiteDir, '--out', reportFile, '--html', htmlFile, '--concurrency', '2');
    expect(stdout).toMatch(/sample-incident: 5 cases \(3 malicious, 2 benign\)/);
    expect(stdout).toMatch(/recall \d+\.\d%/);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { metrics: { recall: number } };
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/(src|href)="https?:/);

    // The same suite with a benign case relabelled malicious: recall drops against the first report.
    const changed = join(home, 'changed-suite');
    cpSync(suiteDir, changed, { recursive: true });
    writeFileSync(
      join(changed, 'suite.yaml'),
      readFileSync(join(suiteDir, 'suite.yaml'), 'utf8').replace('../../../../examples', resolve('examples')),
    );
    const cases = readFileSync(join(changed, 'cases.jsonl'), 'utf8').replace(
      /"expected": \{"verdict": "benign", "techniques": \[\]\}, "dataset": "sample-incident.jsonl"\}\n$/,
      '"expected": {"verdict": "malicious", "techniques": ["T1204"]}, "dataset": "sample-incident.jsonl"}\n',
    );
    writeFileSync(join(changed, 'cases.jsonl'), cases);
    const gated = await cli(changed, '--baseline', reportFile, '--tolerance', '0.01').catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(report.metrics.recall).toBeGreaterThan(0);
    expect((gated as { code: number }).code).toBe(1);
    expect((gated as { stderr: string }).stderr).toMatch(/regression: recall/);
  }, 300_000);
});
