import { createHash } from 'node:crypto';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  bundledSkillsDirectory,
  lintSkills,
  loadSkills,
  parseSkillFile,
  readSkillResource,
} from '../../src/knowledge/index.js';
import { tempHome } from '../helpers.js';
import { writeSkill } from './helpers.js';

const roots: string[] = [];
function root(): string {
  const path = tempHome('warden-skills-');
  roots.push(path);
  return path;
}
afterAll(() => {
  for (const path of roots) rmSync(path, { recursive: true, force: true });
});

function problemsOf(front: string, folder = 'my-skill') {
  return parseSkillFile(`---\n${front}\n---\n\n# Body\n`, `/x/${folder}/SKILL.md`, folder).problems;
}

describe('SKILL.md front matter, per the Agent Skills specification', () => {
  test('accepts the optional fields and reads them', () => {
    const parsed = parseSkillFile(
      '---\nname: my-skill\ndescription: Does a thing.\nlicense: Apache-2.0\ncompatibility: Needs Warden 0.1\nallowed-tools: siem.search_events edr.process_tree\nmetadata:\n  author: me\n  version: "1"\n---\n# Body\n',
      '/x/my-skill/SKILL.md',
      'my-skill',
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.front).toMatchObject({
      name: 'my-skill',
      license: 'Apache-2.0',
      compatibility: 'Needs Warden 0.1',
      allowedTools: ['siem.search_events', 'edr.process_tree'],
      metadata: { author: 'me', version: '1' },
    });
  });

  test.each([
    ['name: My-Skill', 'upper-case'],
    ['name: -my-skill', 'starts or ends with a hyphen'],
    ['name: my--skill', 'consecutive hyphens'],
    ['name: my_skill', 'characters other than'],
    [`name: ${'a'.repeat(65)}`, 'limit is 1-64'],
  ])('rejects %s (%s) with a fix', (line, why) => {
    const problems = problemsOf(`${line}\ndescription: x`);
    expect(problems[0]).toMatchObject({ severity: 'error' });
    expect(problems[0]?.message).toContain(why);
    expect(problems[0]?.fix).toMatch(/lower-case/);
  });

  test('the name must match the folder, and the description is required and at most 1024 characters', () => {
    expect(problemsOf('name: other\ndescription: x')[0]?.message).toContain('does not match its folder');
    expect(problemsOf('name: my-skill')[0]?.message).toContain('no `description`');
    expect(problemsOf(`name: my-skill\ndescription: ${'d'.repeat(1025)}`)[0]?.message).toContain('1024');
  });

  test('unknown fields, non-string metadata and long compatibility are warnings, and the skill still loads', () => {
    const parsed = parseSkillFile(
      `---\nname: my-skill\ndescription: x\nversion: 2\nmetadata:\n  count: 3\ncompatibility: ${'c'.repeat(501)}\n---\n# Body\n`,
      '/x/my-skill/SKILL.md',
      'my-skill',
    );
    expect(parsed.front).not.toBeNull();
    const messages = parsed.problems.map((problem) => `${problem.severity}: ${problem.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'warning: unknown front matter field `version`',
        'warning: metadata.count is not a string',
        'warning: `compatibility` is 501 characters; the limit is 500',
      ]),
    );
  });

  test('a file without front matter, or with broken YAML, is not a skill', () => {
    expect(parseSkillFile('# Just markdown\n', '/x/a/SKILL.md', 'a').front).toBeNull();
    const broken = parseSkillFile('---\nname: [a\n---\n', '/x/a/SKILL.md', 'a');
    expect(broken.front).toBeNull();
    expect(broken.problems[0]?.message).toMatch(/not valid YAML/);
  });
});

describe('loading skill directories', () => {
  test('the bundled runbooks load cleanly and lint without a problem', async () => {
    const set = await lintSkills([bundledSkillsDirectory]);
    expect(set.problems).toEqual([]);
    expect(set.skills.map((skill) => skill.name)).toEqual([
      'brute-force-password-spraying',
      'environment',
      'lateral-movement',
      'lsass-credential-dumping',
      'persistence',
      'phishing',
      'ransomware',
      'suspicious-powershell-lolbins',
    ]);
    for (const skill of set.skills) {
      expect(skill.hash).toBe(createHash('sha256').update(skill.content).digest('hex'));
      if (skill.name !== 'environment')
        expect(skill.resources.map((item) => item.path)).toContain('checklist.yaml');
    }
  });

  test('lists resources with size and hash, never SKILL.md or hidden files', async () => {
    const base = root();
    writeSkill(base, 'alpha', {
      files: { 'references/ids.md': '# ids\n', 'scripts/run.sh': 'echo hi\n', '.secret': 'x' },
    });
    const { skills } = await loadSkills([base]);
    const resources = skills[0]?.resources ?? [];
    expect(resources.map((item) => item.path)).toEqual(['references/ids.md', 'scripts/run.sh']);
    expect(resources[0]).toEqual({
      path: 'references/ids.md',
      size: 6,
      hash: createHash('sha256').update('# ids\n').digest('hex'),
    });
  });

  test('a later directory overrides a skill of the same name, and the override is reported', async () => {
    const first = root();
    const second = root();
    writeSkill(first, 'alpha', { body: 'first\n' });
    writeSkill(second, 'alpha', { body: 'second\n' });
    const set = await loadSkills([first, second]);
    expect(set.skills).toHaveLength(1);
    expect(set.skills[0]?.content).toContain('second');
    expect(set.overrides).toEqual([
      { name: 'alpha', kept: join(second, 'alpha'), replaced: join(first, 'alpha') },
    ]);
  });

  test('folders that are not skills are reported with the path and the fix, and skipped', async () => {
    const base = root();
    writeSkill(base, 'good');
    writeSkill(base, 'Bad', { front: 'name: Bad\ndescription: x' });
    writeSkill(base, 'empty');
    rmSync(join(base, 'empty', 'SKILL.md'));
    const set = await loadSkills([base, join(base, 'missing')]);
    expect(set.skills.map((skill) => skill.name)).toEqual(['good']);
    expect(set.problems.map((problem) => problem.message)).toEqual([
      'name "Bad" has upper-case letters',
      'no SKILL.md in this folder',
      'cannot read skills directory (ENOENT)',
    ]);
    for (const problem of set.problems) expect(problem.fix.length).toBeGreaterThan(10);
  });
});

describe('reading a resource is confined to the skill folder', () => {
  async function fixture() {
    const base = root();
    const outside = join(base, 'outside.txt');
    writeFileSync(outside, 'secret outside the skill\n');
    const directory = writeSkill(base, 'alpha', {
      files: {
        'references/ids.md': '# ids\n',
        'assets/logo.bin': Buffer.from([0xff, 0xfe, 0x00, 0x81]),
        'references/big.md': 'x'.repeat(300 * 1024),
      },
    });
    symlinkSync(outside, join(directory, 'references', 'escape.md'));
    symlinkSync(join(directory, 'references', 'ids.md'), join(directory, 'inside-link.md'));
    const set = await loadSkills([base]);
    const skill = set.skills[0];
    if (!skill) throw new Error('fixture skill did not load');
    return { skill, set, directory };
  }

  test('a symbolic link leading outside is not listed and is reported; one inside is listed', async () => {
    const { skill, set } = await fixture();
    const paths = skill.resources.map((item) => item.path);
    expect(paths).toContain('inside-link.md');
    expect(paths).not.toContain('references/escape.md');
    expect(set.problems.some((problem) => problem.message.includes('leads outside the skill folder'))).toBe(
      true,
    );
  });

  test.each([
    ['../outside.txt', 'invalid_path'],
    ['references/../../outside.txt', 'invalid_path'],
    ['/etc/passwd', 'invalid_path'],
    ['references\\ids.md', 'invalid_path'],
    ['references/escape.md', 'unknown_resource'],
    ['nothing.md', 'unknown_resource'],
    ['references/big.md', 'too_large'],
    ['assets/logo.bin', 'binary'],
  ])('refuses %s (%s)', async (path, error) => {
    const { skill } = await fixture();
    expect(await readSkillResource(skill, path)).toMatchObject({ type: 'error', error });
  });

  test('reads a listed file with its hash, and refuses it once changed or swapped for a link out', async () => {
    const { skill, directory } = await fixture();
    const read = await readSkillResource(skill, 'references/ids.md');
    expect(read).toMatchObject({ type: 'ok', text: '# ids\n', resource: { path: 'references/ids.md' } });
    writeFileSync(join(directory, 'references', 'ids.md'), '# edited\n');
    expect(await readSkillResource(skill, 'references/ids.md')).toMatchObject({ error: 'changed' });
    rmSync(join(directory, 'references', 'ids.md'));
    symlinkSync(join(directory, '..', 'outside.txt'), join(directory, 'references', 'ids.md'));
    expect(await readSkillResource(skill, 'references/ids.md')).toMatchObject({ error: 'invalid_path' });
    expect(readFileSync(join(directory, '..', 'outside.txt'), 'utf8')).toContain('secret');
  });
});
