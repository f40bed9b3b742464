import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildSuite, loadSuite, splitOf } from '../../src/eval/index.js';
import { tempHome } from '../helpers.js';

const fixtures = resolve('test/fixtures/eval');
const sample = resolve('examples/lab/sample-incident.jsonl');

interface BuiltCase {
  id: string;
  alert: { title: string; host?: string; event: Record<string, string> };
  expected: { verdict: string; techniques: string[] };
}

function readCases(dir: string): BuiltCase[] {
  return readFileSync(join(dir, 'cases.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as BuiltCase);
}

/** A suite built from the sample incident and its fixture metadata with these rules. */
async function buildSample(name: string, rules: string) {
  const out = join(tempHome('warden-build-'), 'suite');
  const summary = await buildSuite({
    name,
    datasets: [sample],
    rules: [rules],
    metadataDirs: [join(fixtures, 'sample-metadata/_metadata')],
    out,
    scratchHome: tempHome('warden-build-scratch-'),
    minLevel: 'medium',
    seed: 'test',
    testShare: 0.3,
    capPerDataset: 40,
  });
  return { out, summary };
}

describe('suite builder: labels by process lineage', () => {
  it('marks the attacker command, its descendants, and nothing else, on the sample incident', async () => {
    const { out, summary } = await buildSample('sample-built', join(fixtures, 'rules'));
    expect(summary.datasets[0]?.skipped).toBeNull();
    expect(summary.datasets[0]?.seeds).toBeGreaterThan(0);
    const cases = readCases(out);
    const label = (image: string, host: string) =>
      cases.find((c) => c.alert.event.Image?.toLowerCase().endsWith(image) && c.alert.host === host)
        ?.expected;
    // mshta (seed) → encoded PowerShell → whoami, nltest: all the attacker's.
    expect(label('\\powershell.exe', 'FIN-WS01.harbourline.local')).toEqual({
      verdict: 'malicious',
      techniques: ['T1218.005'],
    });
    expect(label('\\whoami.exe', 'FIN-WS01.harbourline.local')?.verdict).toBe('malicious');
    expect(label('\\nltest.exe', 'FIN-WS01.harbourline.local')?.verdict).toBe('malicious');
    // The IT admin's PowerShell on another host is background activity.
    expect(label('\\powershell.exe', 'IT-WS01.harbourline.local')).toEqual({
      verdict: 'benign',
      techniques: [],
    });
    // The low-level rule is below --min-level.
    expect(cases.some((c) => c.alert.event.Image?.endsWith('usoclient.exe'))).toBe(false);

    const suiteFile = parseYaml(readFileSync(join(out, 'suite.yaml'), 'utf8')) as { datasets: string[] };
    expect(resolve(out, suiteFile.datasets[0] ?? '')).toBe(sample);
    const suite = await loadSuite(out);
    expect(suite.cases.length).toBe(cases.length);
  }, 120_000);

  it('leaves out, and counts, alerts whose event names no acting process', async () => {
    const rules = tempHome('warden-build-rules-');
    writeFileSync(
      join(rules, 'failed_logon.yml'),
      [
        'title: Failed Logon',
        'id: 5e0c4f6a-0000-4000-8000-00000000e0f1',
        'status: test',
        'logsource: { product: windows, service: security }',
        'detection:',
        '  selection: { EventID: 4625 }',
        '  condition: selection',
        'level: medium',
      ].join('\n'),
    );
    copyFileSync(join(fixtures, 'rules/proc_creation_recon.yml'), join(rules, 'proc_creation_recon.yml'));
    const { out, summary } = await buildSample('sample-unlabelled', rules);
    const failedLogons = readFileSync(sample, 'utf8')
      .split('\n')
      .filter((line) => /"EventID":\s*4625\b/.test(line))
      .map((line) => JSON.parse(line) as { ProcessId?: string; Hostname: string });
    const withoutProcess = failedLogons.filter((event) => !event.ProcessId || Number(event.ProcessId) === 0);
    expect(withoutProcess.length).toBeGreaterThan(0);
    expect(withoutProcess.length).toBeLessThan(failedLogons.length);
    // A failed logon with no acting process fired the rule: counted, never labelled.
    expect(summary.datasets[0]?.unlabelled).toBe(withoutProcess.length);
    const cases = readCases(out).filter((c) => c.alert.title === 'Failed Logon');
    // The one svchost.exe recorded is a process lineage can judge (background here).
    expect(cases.map((c) => [c.alert.host, c.expected.verdict])).toEqual(
      failedLogons
        .filter((event) => !withoutProcess.includes(event))
        .map((event) => [event.Hostname, 'benign']),
    );
    expect(readCases(out).some((c) => c.alert.title === 'Account Or Domain Discovery Tool')).toBe(true);
  }, 120_000);

  it('splits by dataset, deterministically', () => {
    const names = Array.from({ length: 200 }, (_, index) => `/data/ds-${index}.zip`);
    const tests = names.filter((name) => splitOf(name, 'seed', 0.3) === 'test').length;
    expect(tests).toBeGreaterThan(35);
    expect(tests).toBeLessThan(85);
    expect(names.map((name) => splitOf(name, 'seed', 0.3))).toEqual(
      names.map((name) => splitOf(name, 'seed', 0.3)),
    );
    expect(names.map((name) => splitOf(name, 'other', 0.3))).not.toEqual(
      names.map((name) => splitOf(name, 'seed', 0.3)),
    );
  });
});

const datasets = resolve('../shared/datasets');
const mshtaArchive = join(
  datasets,
  'security-datasets/atomic/windows/defense_evasion/host/psh_mshta_html_application_execution.zip',
);

describe.skipIf(!existsSync(mshtaArchive))('suite builder on Security-Datasets', () => {
  it('labels the recorded mshta chain malicious from the metadata alone', async () => {
    const out = join(tempHome('warden-build-real-'), 'suite');
    const summary = await buildSuite({
      name: 'mshta-real',
      datasets: [mshtaArchive],
      rules: [
        join(datasets, 'sigma/rules/windows/process_creation'),
        join(datasets, 'sigma/rules/windows/file'),
      ],
      out,
      scratchHome: tempHome('warden-build-real-scratch-'),
      minLevel: 'medium',
      seed: 'test',
      testShare: 0.3,
      capPerDataset: 40,
    });
    expect(summary.datasets[0]?.seeds).toBeGreaterThan(0);
    const cases = readCases(out);
    const mshta = cases.filter((c) =>
      /mshta\.exe/i.test(c.alert.event.Image ?? c.alert.event.NewProcessName ?? ''),
    );
    expect(mshta.length).toBeGreaterThan(0);
    expect(
      mshta.every((c) => c.expected.verdict === 'malicious' && c.expected.techniques.includes('T1218.005')),
    ).toBe(true);
  }, 300_000);
});
