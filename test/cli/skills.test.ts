import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempHome, tsxArgs } from '../helpers.js';

const run = promisify(execFile);
const env = { ...process.env, NO_COLOR: '1' };
const home = tempHome();
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function warden(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      tsxArgs('src/cli/main.ts', '--home', home, ...args),
      {
        timeout: 120_000,
        env,
      },
    );
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

describe('warden skills', { timeout: 180_000 }, () => {
  it('lists the bundled skills, and a configured directory overrides one of them', async () => {
    const mine = join(home, 'our-runbooks');
    mkdirSync(join(mine, 'environment'), { recursive: true });
    writeFileSync(
      join(mine, 'environment', 'SKILL.md'),
      '---\nname: environment\ndescription: Our own estate and who signs off containment.\n---\n\n# Ours\n',
    );
    const config = join(home, 'warden.yaml');
    writeFileSync(config, 'skills: { directories: [./our-runbooks] }\n');
    const listed = await warden('--config', config, 'skills', 'list');
    expect(listed.code).toBe(0);
    for (const name of ['lsass-credential-dumping', 'lateral-movement', 'ransomware', 'phishing'])
      expect(listed.stdout).toContain(name);
    expect(listed.stdout).toMatch(/environment: .*our-runbooks.*environment overrides .*skills.*environment/);
    expect(listed.stdout).toContain('8 skill(s)');
  });

  it('shows a skill with its resources, one resource, and refuses a path outside the skill', async () => {
    const shown = await warden('skills', 'show', 'lsass-credential-dumping');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/sha-256: +[0-9a-f]{64}/);
    expect(shown.stdout).toMatch(/checklist\.yaml +\d+ B/);
    expect(shown.stdout).toContain('# LSASS and other credential dumping');
    const resource = await warden(
      'skills',
      'show',
      'lsass-credential-dumping',
      '--resource',
      'checklist.yaml',
    );
    expect(resource.stdout).toContain('id: lsass-handles');
    const outside = await warden(
      'skills',
      'show',
      'lsass-credential-dumping',
      '--resource',
      '../environment/assets.yaml',
    );
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/may not contain empty, \. or \.\. segments/);
  });

  it('lints: the bundled skills are clean; a broken one exits 1 naming the file and the fix', async () => {
    const clean = await warden('skills', 'lint');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('0 problem(s)');
    const bad = join(home, 'bad-skills');
    mkdirSync(join(bad, 'Bad_Name'), { recursive: true });
    writeFileSync(join(bad, 'Bad_Name', 'SKILL.md'), '---\nname: Bad_Name\n---\n# x\n');
    const broken = await warden('skills', 'lint', bad);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(
      `${join('Bad_Name', 'SKILL.md')}: error: name "Bad_Name" has upper-case letters`,
    );
    expect(broken.stdout).toMatch(/fix: use 1-64 lower-case letters/);
    expect(broken.stdout).toContain('front matter has no `description`');
  });
});
