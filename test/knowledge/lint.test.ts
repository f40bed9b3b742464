import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { lintSkills, parseChecklist } from '../../src/knowledge/index.js';
import { tempHome } from '../helpers.js';
import { writeSkill } from './helpers.js';

const roots: string[] = [];
afterAll(() => {
  for (const path of roots) rmSync(path, { recursive: true, force: true });
});
function root(): string {
  const path = tempHome('warden-lint-');
  roots.push(path);
  return path;
}

const validChecklist = `version: 1
triggers: { techniques: [T1003] }
steps:
  - id: handles
    question: Who opened LSASS?
    tool: edr.process_access
    args: { host: "{{alert.host}}", targetImage: lsass.exe, from: "{{window.from}}", to: "{{window.to}}" }
    count: accesses
    when: { count_gt: 0 }
    hit: { signal: lsass-access, weight: 3, claim: "{{count}} handles" }
  - id: tree
    question: Who started the first one?
    tool: edr.process_tree
    args: { processGuid: "{{steps.handles.accesses.0.sourceProcessGuid}}" }
`;

describe('checklist format', () => {
  test('a valid checklist parses with defaults filled in', () => {
    const parsed = parseChecklist(validChecklist);
    expect(parsed.type).toBe('ok');
    if (parsed.type !== 'ok') return;
    expect(parsed.checklist.window).toEqual({ before: '15m', after: '30m' });
    expect(parsed.checklist.steps.map((step) => step.id)).toEqual(['handles', 'tree']);
  });

  test.each([
    [validChecklist.replace('{{alert.host}}', '{{alert.hostname}}'), 'unknown template {{alert.hostname}}'],
    [validChecklist.replace('steps.handles.', 'steps.later.'), 'unknown template {{steps.later'],
    [validChecklist.replace('id: tree', 'id: handles'), '"handles" is used twice'],
    [
      validChecklist.replace('when: { count_gt: 0 }', 'when: { match: { field: x, pattern: "(" } }'),
      'not a valid regular expression',
    ],
    [validChecklist.replace('    when: { count_gt: 0 }\n', ''), 'hit/miss without a when condition'],
    [validChecklist.replace('tool: edr.process_tree', 'tool: process_tree'), 'server.tool'],
    [validChecklist.replace('weight: 3', 'weight: 9'), 'steps.0.hit.weight'],
    [
      validChecklist.replace('triggers: { techniques: [T1003] }', 'triggers: {}'),
      'declare at least one trigger',
    ],
    ['version: 2\nsteps: []', 'version'],
    ['a: [', 'not valid YAML'],
  ])('reports a broken checklist (%#): %s', (text, expected) => {
    const parsed = parseChecklist(text as string);
    expect(parsed.type).toBe('invalid');
    if (parsed.type === 'invalid') expect(parsed.issues.join('\n')).toContain(expected);
  });
});

describe('warden skills lint (lintSkills)', () => {
  test('reports broken links, bad checklists and allowed-tools, each with the file and a fix', async () => {
    const base = root();
    writeSkill(base, 'alpha', {
      front: 'name: alpha\ndescription: Test.\nallowed-tools: siem.search_events not/a/tool',
      body: '# Alpha\n\nSee [ids](references/ids.md), [missing](references/missing.md) and [web](https://attack.mitre.org/).\n',
      files: {
        'references/ids.md': '# ids\n',
        'checklist.yaml': validChecklist.replace('{{alert.host}}', '{{alert.nope}}'),
      },
    });
    const set = await lintSkills([base]);
    const lines = set.problems.map((problem) => `${problem.path}: ${problem.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        `${join(base, 'alpha', 'SKILL.md')}: link to references/missing.md names no file of the skill`,
        `${join(base, 'alpha', 'SKILL.md')}: allowed-tools entry "not/a/tool" is not a tool name`,
        expect.stringContaining(
          `${join(base, 'alpha', 'checklist.yaml')}: steps.0.args.host: unknown template {{alert.nope}}`,
        ),
      ]),
    );
    expect(set.problems).toHaveLength(3);
    for (const problem of set.problems) expect(problem.fix).not.toBe('');
  });

  test('a skill another directory overrides is still checked', async () => {
    const first = root();
    const second = root();
    writeSkill(first, 'alpha', { body: 'See [x](nowhere.md).\n' });
    writeSkill(second, 'alpha');
    const set = await lintSkills([first, second]);
    expect(set.overrides.map((override) => override.name)).toEqual(['alpha']);
    expect(set.problems.map((problem) => problem.message)).toEqual([
      'link to nowhere.md names no file of the skill',
    ]);
  });
});
