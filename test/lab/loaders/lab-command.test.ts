import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { labCommand } from '../../../src/cli/lab.js';
import { sampleLabDir } from '../../../src/lab/index.js';
import { useTempHome } from '../helpers.js';

const tempHome = useTempHome();

async function run(home: string, ...args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const previous = process.exitCode;
  process.exitCode = undefined;
  try {
    const program = new Command().option('--home <dir>').option('-c, --config <file>').exitOverride();
    program.addCommand(labCommand());
    await program.parseAsync(['--home', home, 'lab', ...args], { from: 'user' });
    return { out: lines.join(''), exitCode: process.exitCode };
  } finally {
    write.mockRestore();
    process.exitCode = previous;
  }
}

afterEach(() => vi.restoreAllMocks());

describe('warden lab', () => {
  it('loads, prints a summary with file:line errors, skips a second load and reports status', async () => {
    const home = tempHome();
    const dir = tempHome();
    writeFileSync(join(dir, 'broken.jsonl'), '{"EventID": 1\n');
    const first = await run(
      home,
      'load',
      join(sampleLabDir, 'sample-incident.jsonl'),
      join(dir, 'broken.jsonl'),
    );
    expect(first.out).toContain('loaded 0 files, skipped 1 already loaded, 1 failed; 0 events, 1 errors');
    expect(first.out).toContain(`${join(dir, 'broken.jsonl')}:1: not valid JSON`);
    expect(first.exitCode).toBeUndefined();
    const status = await run(home, 'status', '--json');
    expect(JSON.parse(status.out)).toMatchObject({
      events: 95,
      hosts: 5,
      files: [{ events: 95, errors: 0 }],
    });
    const human = await run(home, 'status');
    expect(human.out).toMatch(/^95 events from 5 hosts, 2026-11-18T/);
  });

  it('exits non-zero only when nothing could be loaded', async () => {
    const home = tempHome();
    const dir = tempHome();
    writeFileSync(join(dir, 'junk.zip'), 'not a zip');
    const failed = await run(home, 'load', join(dir, 'junk.zip'), join(dir, 'absent.jsonl'));
    expect(failed.out).toContain('0 events, 2 errors');
    expect(failed.out).toContain(`${join(dir, 'absent.jsonl')}: no such file or directory`);
    expect(failed.exitCode).toBe(1);
  });

  it('keeps the sample incident out of a new store with --without-sample, and says when it is in', async () => {
    const dir = tempHome();
    const file = join(dir, 'own.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', Hostname: 'OWN-HOST', UtcTime: '2026-11-18 09:00:00.000', Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c whoami', ProcessGuid: '{11111111-1111-1111-1111-111111111111}', ProcessId: 42 })}\n`,
    );
    const clean = tempHome();
    const without = await run(clean, 'load', '--without-sample', file);
    expect(without.out).not.toMatch(/sample incident/);
    expect((await run(clean, 'status', '--json')).out).toMatch(/"events": 1\b/);
    const seeded = await run(tempHome(), 'load', file);
    expect(seeded.out).toMatch(/also holds the shipped sample incident/);
  });
});
