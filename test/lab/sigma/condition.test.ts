import { describe, expect, it } from 'vitest';
import { parseCondition } from '../../../src/lab/sigma/index.js';
import { detection, unsupportedReason } from './helpers.js';

const selections = [
  'selection_img:',
  '  Image|endswith: \\cmd.exe',
  'selection_cli:',
  '  CommandLine|contains: whoami',
  'filter_main:',
  '  User|contains: SYSTEM',
  'filter_optional:',
  '  ParentImage|endswith: \\explorer.exe',
  '_hidden:',
  '  Hidden: yes',
].join('\n');

const cmd = { Image: 'C:\\cmd.exe' };
const whoami = { CommandLine: 'whoami /all' };

function withCondition(condition: string) {
  return detection(`${selections}\ncondition: ${condition}`);
}

describe('conditions', () => {
  it('and, or, not and parentheses with the usual precedence', () => {
    const matches = withCondition('selection_img and selection_cli or filter_main');
    expect(matches({ ...cmd, ...whoami })).toBe(true);
    expect(matches({ User: 'NT AUTHORITY\\SYSTEM' })).toBe(true);
    expect(matches(cmd)).toBe(false);
    const grouped = withCondition('selection_img and (selection_cli or filter_main)');
    expect(grouped({ User: 'SYSTEM' })).toBe(false);
    expect(grouped({ ...cmd, User: 'SYSTEM' })).toBe(true);
    const negated = withCondition('selection_img and not filter_main');
    expect(negated(cmd)).toBe(true);
    expect(negated({ ...cmd, User: 'SYSTEM' })).toBe(false);
    const doubleNot = withCondition('not not selection_img');
    expect(doubleNot(cmd)).toBe(true);
  });

  it('1 of / all of a pattern', () => {
    const oneOf = withCondition('1 of selection_* and not 1 of filter_*');
    expect(oneOf(whoami)).toBe(true);
    expect(oneOf({ ...whoami, ParentImage: 'C:\\explorer.exe' })).toBe(false);
    expect(oneOf({ User: 'x' })).toBe(false);
    const allOf = withCondition('all of selection_*');
    expect(allOf({ ...cmd, ...whoami })).toBe(true);
    expect(allOf(cmd)).toBe(false);
  });

  it('any of and N of count matching selections', () => {
    const anyOf = withCondition('any of selection_*');
    expect(anyOf(cmd)).toBe(true);
    const twoOf = withCondition('2 of selection_* or 2 of filter_*');
    expect(twoOf({ ...cmd, ...whoami })).toBe(true);
    expect(twoOf(cmd)).toBe(false);
  });

  it('them covers every selection except those starting with an underscore', () => {
    const allOfThem = withCondition('all of them');
    const everything = { ...cmd, ...whoami, User: 'SYSTEM', ParentImage: 'C:\\explorer.exe' };
    expect(allOfThem(everything)).toBe(true);
    expect(allOfThem({ ...everything, User: 'bob' })).toBe(false);
    const oneOfThem = withCondition('1 of them');
    expect(oneOfThem({ Hidden: 'yes' })).toBe(false);
    expect(oneOfThem(whoami)).toBe(true);
  });

  it('accepts a list of conditions as alternatives', () => {
    const matches = detection(`${selections}\ncondition:\n  - selection_img\n  - selection_cli`);
    expect(matches(whoami)).toBe(true);
    expect(matches({ User: 'SYSTEM' })).toBe(false);
  });

  it('parses keywords case-insensitively into a tree', () => {
    expect(parseCondition('a AND NOT (b OR c)')).toEqual({
      type: 'and',
      operands: [
        { type: 'selection', name: 'a' },
        {
          type: 'not',
          operand: {
            type: 'or',
            operands: [
              { type: 'selection', name: 'b' },
              { type: 'selection', name: 'c' },
            ],
          },
        },
      ],
    });
  });

  it('reports aggregations, near, unknown selections and syntax errors', () => {
    expect(unsupportedReason(`${selections}\ncondition: selection_img | count() by Computer > 5`)).toMatch(
      /aggregation/,
    );
    expect(unsupportedReason(`${selections}\ncondition: selection_img near selection_cli`)).toMatch(/near/);
    expect(unsupportedReason(`${selections}\ncondition: selection_img and missing`)).toMatch(
      /undefined selection missing/,
    );
    expect(unsupportedReason(`${selections}\ncondition: 1 of nothing_*`)).toMatch(/matches no selection/);
    expect(unsupportedReason(`${selections}\ncondition: (selection_img and selection_cli`)).toMatch(
      /missing \)/,
    );
    expect(unsupportedReason(`${selections}\ncondition: selection_img and`)).toMatch(/ended early/);
    expect(unsupportedReason(`${selections}\ntimeframe: 5m\ncondition: selection_img`)).toMatch(/timeframe/);
  });
});
