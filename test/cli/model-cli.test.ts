import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempHome, tsxArgs } from '../helpers.js';
import { fixture, replayByModel, startWireServer } from '../model/wire-server.js';

const MAIN = 'src/cli/main.ts';
const MSHTA_ALERT = 'examples/alerts/mshta-powershell.json';

/** Runs the CLI asynchronously, so a loopback model server in this process can answer it. */
function warden(
  home: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      tsxArgs(MAIN, '--home', home, ...args),
      { timeout: 170_000, env: { ...process.env, NO_COLOR: '1', ANTHROPIC_API_KEY: undefined, ...env } },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

function configFile(home: string, yaml: string): string {
  const path = join(home, 'warden.yaml');
  const servers = ['siem', 'edr', 'intel', 'ticket']
    .map((name) => `  ${name}: { bundled: ${name}, transport: memory }`)
    .join('\n');
  writeFileSync(path, `servers:\n${servers}\n${yaml}`);
  return path;
}

describe('warden triage --provider', { timeout: 180_000 }, () => {
  it('triages with Claude over the Messages API when --provider anthropic is given', async () => {
    const server = await startWireServer(
      replayByModel(fixture('anthropic-malicious-run.json') as Record<string, unknown[]>),
    );
    try {
      const home = tempHome();
      const config = configFile(
        home,
        `model:\n  anthropic: { baseURL: "${server.baseURL}", maxRetries: 0 }\n`,
      );
      const result = await warden(
        home,
        ['--config', config, 'triage', MSHTA_ALERT, '--provider', 'anthropic'],
        {
          ANTHROPIC_API_KEY: 'sk-test',
        },
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('MALICIOUS  confidence 0.92');
      expect(result.stdout).toContain('HTA phishing attachment opened from Outlook');
      expect(result.stdout).toMatch(/awaiting approval apr-/);
      expect(server.requests.map((request) => request.body.model)).toEqual([
        'claude-opus-4-8',
        'claude-opus-4-8',
        'claude-haiku-4-5',
        'claude-opus-4-8',
      ]);
    } finally {
      await server.close();
    }
  });

  it('fails at start-up naming the variable when the key is missing and fallback is none', async () => {
    const home = tempHome();
    const config = configFile(home, 'model: { provider: anthropic, fallback: none }\n');
    const result = await warden(home, ['--config', config, 'triage', MSHTA_ALERT], {});
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'warden: ANTHROPIC_API_KEY is not set; export it (model.provider: anthropic), or set model.fallback: offline',
    );
  });

  it('refuses an unknown provider name', async () => {
    const result = await warden(tempHome(), ['triage', MSHTA_ALERT, '--provider', 'gpt'], {});
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /--provider <name>' argument 'gpt' is invalid. Allowed choices are offline, anthropic, openai-compatible/,
    );
  });
});
