import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlatEvent } from '../../../src/lab/index.js';
import { parseEventFile } from '../../../src/lab/sigma/conformance.js';
import { compileRule, createRuleSet, loadRules } from '../../../src/lab/sigma/index.js';
import { ruleNeedles } from '../../../src/lab/sigma/prefilter.js';
import { hasSharedDatasets, rule, ruleText, sharedDatasets } from './helpers.js';

function needles(yaml: string): string[] | undefined {
  return ruleNeedles(rule(ruleText(yaml)))?.map((needle) => `${needle.field} ${needle.kind} ${needle.text}`);
}

describe('ruleNeedles', () => {
  it('takes the required selection of `selection and not filter`, lowercased', () => {
    expect(
      needles(`
selection:
    Image|endswith: '\\Whoami.EXE'
filter:
    User|contains: 'SYSTEM'
condition: selection and not filter`),
    ).toEqual(['Image endswith \\whoami.exe']);
  });

  it('unites the selections of `1 of selection_*` and of `or`', () => {
    expect(
      needles(`
selection_a:
    CommandLine|contains: [' -enc ', ' -e ']
selection_b:
    OriginalFileName: 'PowerShell.EXE'
condition: 1 of selection_*`),
    ).toEqual([
      'CommandLine contains  -enc ',
      'CommandLine contains  -e ',
      'OriginalFileName equals powershell.exe',
    ]);
  });

  it('picks the cheapest entry of a map, avoiding the fields routing already decides', () => {
    expect(
      needles(`
selection:
    EventID: 4688
    CommandLine|contains: 'mimikatz'
    Image|endswith: '\\cmd.exe'
condition: selection`),
    ).toEqual(['Image endswith \\cmd.exe']);
  });

  it('requires the first value of an `all` list and expands windash', () => {
    expect(
      needles(`
selection:
    CommandLine|contains|all: ['net', 'user']
condition: selection`),
    ).toEqual(['CommandLine contains net']);
    expect(
      needles(`
selection:
    CommandLine|windash|contains: '-enc'
condition: selection`),
    ).toHaveLength(5);
  });

  it('leaves rules that can match without a literal unindexed', () => {
    const unindexed = [
      'selection:\n    Image|endswith: x.exe\ncondition: not selection',
      'selection:\n    CommandLine|re: "a.*b"\ncondition: selection',
      'keywords:\n    - mimikatz\ncondition: keywords',
      'selection:\n    User|exists: true\ncondition: selection',
      'selection:\n    Image: null\ncondition: selection',
      'selection:\n    Image|contains: "*"\ncondition: selection',
      'selection:\n    Image|endswith: x.exe\nother:\n    User|neq: SYSTEM\ncondition: selection or other',
      'selection:\n    Image|contains: "a?b"\ncondition: selection',
      'selection:\n    ProcessId|gt: 4\ncondition: selection',
    ];
    for (const yaml of unindexed) expect(needles(yaml), yaml).toBeUndefined();
  });
});

describe('the prefilter', () => {
  it('skips a rule whose literal is absent and keeps matches otherwise', () => {
    const compile = (yaml: string) => {
      const result = compileRule(rule(ruleText(yaml)), 'test.yml');
      if (result.type !== 'compiled') throw new Error(result.type);
      return result.compiled;
    };
    const whoami = compile("selection:\n    Image|endswith: '\\whoami.exe'\ncondition: selection");
    const negated = compile("selection:\n    Image|endswith: '\\cmd.exe'\ncondition: not selection");
    const ruleSet = createRuleSet([whoami, negated]);
    const event = {
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      EventID: 1,
      Image: 'C:\\Windows\\System32\\WHOAMI.EXE',
    };
    expect(ruleSet.match(event)).toEqual([whoami, negated]);
    expect(ruleSet.match({ ...event, Image: 'C:\\Windows\\System32\\cmd.exe' })).toEqual([]);
    expect(ruleSet.match({ ...event, Image: 'C:\\x\\notepad.exe' })).toEqual([negated]);
    // The negated rule has no needle and is always evaluated; the whoami rule only when its literal is there.
    expect(ruleSet.evaluated({ ...event, Image: 'C:\\x\\notepad.exe' })).toBe(1);
    expect(ruleSet.evaluated(event)).toBe(2);
    expect(ruleSet.candidates(event)).toBe(2);
  });
});

function eventFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

describe.skipIf(!hasSharedDatasets)('the prefilter over the SigmaHQ rules and regression events', () => {
  it('finds the same matches as evaluating every routed rule', async () => {
    const sigma = join(sharedDatasets, 'sigma');
    const { rules } = await loadRules([
      join(sigma, 'rules', 'windows'),
      join(sigma, 'rules-threat-hunting', 'windows'),
      join(sigma, 'rules-emerging-threats'),
    ]);
    const events: FlatEvent[] = eventFiles(join(sigma, 'regression_data')).flatMap((path) =>
      parseEventFile(readFileSync(path, 'utf8'), path),
    );
    // Each event also with its field values upper-cased: matching is case-insensitive, the index must be too.
    const shouted = events.map((event) =>
      Object.fromEntries(
        Object.entries(event).map(([key, value]) => [
          key,
          key === 'Channel' || typeof value !== 'string' ? value : value.toUpperCase(),
        ]),
      ),
    );
    const indexed = createRuleSet(rules);
    const plain = createRuleSet(rules, { prefilter: false });
    let matched = 0;
    for (const event of [...events, ...shouted]) {
      const expected = plain.match(event);
      expect(indexed.match(event)).toEqual(expected);
      matched += expected.length;
    }
    expect(events.length).toBeGreaterThanOrEqual(125);
    expect(matched).toBeGreaterThanOrEqual(events.length);
    const indexedRules = rules.filter((compiled) => ruleNeedles(compiled.rule) !== undefined);
    expect(indexedRules.length).toBeGreaterThan(rules.length * 0.9);
  }, 60_000);
});
