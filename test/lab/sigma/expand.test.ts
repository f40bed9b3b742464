import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlatEvent } from '../../../src/lab/index.js';
import {
  compileRuleDetection,
  EventView,
  loadRules,
  type Placeholders,
} from '../../../src/lab/sigma/index.js';
import { rule, ruleText } from './helpers.js';

function compile(detection: string, placeholders: Placeholders) {
  const compiled = compileRuleDetection(rule(ruleText(detection)), { placeholders });
  if (compiled.type === 'unsupported') return { reason: compiled.reason };
  return { matches: (event: FlatEvent) => compiled.matches(new EventView(event)) };
}

const cdcFilter = `
selection:
    EventID: 4886
    Attributes|contains: 'cdc:'
filter_main_known_cdc:
    Attributes|contains|expand: '%known_cdcs%'
condition: selection and not 1 of filter_main_*`;

describe('the expand modifier', () => {
  it('replaces a whole-value placeholder by each configured value (any of them)', () => {
    const { matches } = compile(cdcFilter, { known_cdcs: ['DC01.corp.example', '10.0.0.5'] });
    expect(matches?.({ EventID: 4886, Attributes: 'cdc:DC01.corp.example\nrmd:x' })).toBe(false);
    expect(matches?.({ EventID: 4886, Attributes: 'cdc:10.0.0.5' })).toBe(false);
    expect(matches?.({ EventID: 4886, Attributes: 'cdc:evil.example' })).toBe(true);
  });

  it('substitutes placeholders inside a value, one value per combination', () => {
    const { matches } = compile(
      "selection:\n    TargetFilename|expand: '%drive%\\\\%folder%\\\\*.exe'\ncondition: selection",
      { drive: ['C:', 'D:'], folder: ['Temp', 'Public'] },
    );
    for (const path of ['C:\\Temp\\a.exe', 'D:\\Public\\b.EXE', 'c:\\public\\c.exe'])
      expect(matches?.({ TargetFilename: path }), path).toBe(true);
    expect(matches?.({ TargetFilename: 'E:\\Temp\\a.exe' })).toBe(false);
    expect(matches?.({ TargetFilename: 'C:\\Windows\\a.exe' })).toBe(false);
  });

  it('reports every placeholder without values, and an empty list counts as none', () => {
    expect(
      compile("selection:\n    Image|expand: ['%a%', '%b%\\\\x']\ncondition: selection", { a: ['1'] }).reason,
    ).toMatch(/placeholder %b% has no values \(set lab\.sigma\.placeholders/);
    expect(compile(cdcFilter, { known_cdcs: [] }).reason).toMatch(/%known_cdcs%/);
  });

  it('is reported per rule when loading a folder, and compiles once the value is configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-expand-'));
    const text = ruleText(cdcFilter, 'product: windows\n    service: security');
    writeFileSync(join(dir, 'certighost.yml'), text);
    const without = await loadRules([dir]);
    expect(without.rules).toHaveLength(0);
    expect(without.unsupported).toEqual([
      {
        path: join(dir, 'certighost.yml'),
        id: '00000000-0000-4000-8000-000000000001',
        reason: expect.stringMatching(/%known_cdcs% has no values/),
      },
    ]);
    const withValues = await loadRules([dir], { placeholders: { known_cdcs: ['DC01'] } });
    expect(withValues.rules).toHaveLength(1);
    expect(withValues.unsupported).toEqual([]);
  });
});
