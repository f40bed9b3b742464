import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { loadRules, parseRule } from '../../../src/lab/sigma/index.js';
import { fixtures } from './helpers.js';

describe('parseRule', () => {
  it('keeps the rule metadata Warden uses', () => {
    const path = join(fixtures, 'rules', 'windows', 'proc_creation_whoami.yml');
    const parsed = parseRule(readFileSync(path, 'utf8'), path);
    expect(parsed.type).toBe('rule');
    if (parsed.type !== 'rule') return;
    expect(parsed.rule).toMatchObject({
      id: '7c1a0d2e-0000-4000-8000-000000000001',
      title: 'Whoami Execution',
      level: 'medium',
      status: 'test',
      author: 'Warden tests',
      tags: ['attack.discovery', 'attack.t1033'],
      falsepositives: ['Administrators'],
      logsource: { category: 'process_creation', product: 'windows' },
    });
    expect(parsed.rule.detection.condition).toBe('all of selection_* and not 1 of filter_main_*');
  });

  it('throws InputError naming the file and the field', () => {
    const path = join(fixtures, 'invalid', 'missing_logsource.yml');
    expect(() => parseRule(readFileSync(path, 'utf8'), path)).toThrow(InputError);
    expect(() => parseRule(readFileSync(path, 'utf8'), path)).toThrow(
      /missing_logsource\.yml: field logsource/,
    );
    const level = join(fixtures, 'invalid', 'bad_level.yml');
    expect(() => parseRule(readFileSync(level, 'utf8'), level)).toThrow(/bad_level\.yml: field level/);
    expect(() => parseRule('title: [unclosed', 'x.yml')).toThrow(/x\.yml: not valid YAML/);
    expect(() => parseRule('- a list', 'y.yml')).toThrow(/y\.yml: a Sigma rule must be a YAML mapping/);
  });

  it('recognises correlation rules as meta rules', () => {
    const path = join(fixtures, 'rules', 'meta', 'correlation_many_logons.yml');
    expect(parseRule(readFileSync(path, 'utf8'), path)).toEqual({
      type: 'meta',
      id: '7c1a0d2e-0000-4000-8000-000000000006',
      kind: 'correlation',
    });
  });
});

describe('loadRules', () => {
  it('compiles what it supports and reports every other rule with its reason', async () => {
    const { rules, unsupported } = await loadRules([join(fixtures, 'rules'), join(fixtures, 'invalid')]);
    expect(rules.map((rule) => rule.rule.title).sort()).toEqual([
      'Mimikatz In Script Block',
      'Network Logon',
      'Whoami Execution',
    ]);
    const reasons = Object.fromEntries(
      unsupported.map((entry) => [entry.path.split('/').pop(), entry.reason]),
    );
    expect(reasons).toEqual({
      'bad_level.yml': expect.stringMatching(/^invalid rule file: .*field level/),
      'missing_logsource.yml': expect.stringMatching(/^invalid rule file: .*field logsource/),
      'cisco_keyword.yml': 'product cisco is not mapped (Windows only)',
      'correlation_many_logons.yml': 'correlation rules are not supported',
      'proc_creation_aggregation.yml': expect.stringMatching(/aggregation condition/),
      'proc_creation_unknown_modifier.yml': 'CommandLine|sounds_like: unknown modifier sounds_like',
    });
    expect(unsupported.find((entry) => entry.path.endsWith('proc_creation_aggregation.yml'))?.id).toBe(
      '7c1a0d2e-0000-4000-8000-000000000004',
    );
  });
});
