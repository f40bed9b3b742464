import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { sigmaCommand } from '../../../src/cli/sigma.js';
import { fixtures } from './helpers.js';

async function run(...args: string[]): Promise<{ lines: string[]; exitCode: number | undefined }> {
  const lines: string[] = [];
  process.exitCode = undefined;
  const program = new Command('warden').exitOverride().addCommand(sigmaCommand((line) => lines.push(line)));
  await program.parseAsync(['node', 'warden', ...args]);
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  return { lines, exitCode };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('warden sigma', () => {
  it('test prints the pass rate and exits 0 at 100%', async () => {
    const { lines, exitCode } = await run(
      'sigma',
      'test',
      join(fixtures, 'regression'),
      '--rules',
      join(fixtures, 'rules'),
    );
    expect(lines).toEqual(['3/3 cases pass (100.0%)']);
    expect(exitCode).toBeUndefined();
  });

  it('test prints each failure and exits non-zero below 100%', async () => {
    const { lines, exitCode } = await run(
      'sigma',
      'test',
      join(fixtures, 'regression-failing'),
      '--rules',
      join(fixtures, 'rules'),
    );
    expect(lines).toEqual([
      'FAIL windows/ps_no_match (rule 7c1a0d2e-0000-4000-8000-000000000003): 0 of 1 events match the rule, expected at least 1',
      '0/1 cases pass (0.0%)',
    ]);
    expect(exitCode).toBe(1);
  });

  it('test --json prints the report', async () => {
    const { lines } = await run(
      'sigma',
      'test',
      join(fixtures, 'regression'),
      '--rules',
      join(fixtures, 'rules'),
      '--json',
    );
    expect(JSON.parse(lines.join('\n'))).toMatchObject({ total: 3, passed: 3, passRate: 1 });
  });

  it('lint lists unsupported rules with reasons and counts', async () => {
    const { lines, exitCode } = await run('sigma', 'lint', join(fixtures, 'rules'));
    expect(lines.filter((line) => line.includes('.yml'))).toHaveLength(4);
    expect(lines).toContain('    1  unknown modifier sounds_like');
    expect(lines).toContain('    1  correlation rules are not supported');
    expect(lines.at(-1)).toBe('3 rules supported, 4 unsupported');
    expect(exitCode).toBeUndefined();
    const invalid = await run('sigma', 'lint', join(fixtures, 'invalid'));
    expect(invalid.exitCode).toBe(1);
  });
});
