import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempHome, tsxArgs } from '../helpers.js';

const run = promisify(execFile);
const datasets = resolve('../shared/datasets');
const archive = join(
  datasets,
  'security-datasets/atomic/windows/defense_evasion/host/cmd_mshta_vbscript_execute_psh.zip',
);
const rules = join(datasets, 'sigma/rules/windows/process_creation');

async function warden(home: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, tsxArgs('src/cli/main.ts', '--home', home, ...args), {
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 240_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe.skipIf(!existsSync(archive))('recorded attack → Sigma alerts → triage on the same telemetry', () => {
  it('loads a Security-Datasets archive, detects with SigmaHQ rules and triages an alert with process trees from that data', async () => {
    const home = tempHome('warden-e2e-');
    const loaded = await warden(home, 'lab', 'load', archive);
    expect(`${loaded.stdout}${loaded.stderr}`).toMatch(/event/i);

    const alertsFile = join(home, 'alerts.jsonl');
    await warden(home, 'lab', 'detect', '--rules', rules, '--min-level', 'medium', '--out', alertsFile);
    const alerts = readFileSync(alertsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; title: string; event: Record<string, unknown> });
    const mshta = alerts.find(
      (alert) =>
        /mshta/i.test(String(alert.event.Image ?? alert.event.ParentImage ?? '')) && alert.event.ProcessGuid,
    );
    expect(mshta, `no mshta alert among ${alerts.map((alert) => alert.title).join('; ')}`).toBeDefined();

    const single = join(home, 'one-alert.json');
    await import('node:fs').then(({ writeFileSync }) => writeFileSync(single, JSON.stringify(mshta)));
    const triaged = await warden(home, 'triage', single);
    expect(triaged.stdout).toMatch(/verdict\s+(MALICIOUS|SUSPICIOUS)/);
    const runId = /run (run-[0-9a-f]+)/.exec(triaged.stdout)?.[1] ?? '';
    const audit = await warden(home, 'audit', 'show', runId, '--json');
    const events = audit.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            type: string;
            data: {
              tool?: string;
              isError?: boolean;
              value?: { ancestors?: unknown[]; process?: { guid?: string } };
            };
          },
      );
    const tree = events.find(
      (event) =>
        event.type === 'tool-call-result' && event.data.tool === 'edr.process_tree' && !event.data.isError,
    );
    expect(tree, 'the triage walked the process tree of the loaded data').toBeDefined();
    expect(String(tree?.data.value?.process?.guid ?? '').toLowerCase()).toContain(
      String(mshta?.event.ProcessGuid ?? '')
        .toLowerCase()
        .replace(/[{}]/g, ''),
    );
    const verified = await warden(home, 'audit', 'verify', runId);
    expect(verified.stdout).toMatch(/ok/);
  }, 300_000);
});
