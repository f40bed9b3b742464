import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { isSystemAccount, mergeAccounts, resolveAccount } from '../../../src/lab/iam/index.js';

describe('account merging', () => {
  it('merges case, FQDN and bare spellings of one account and drops system accounts', () => {
    const merged = mergeAccounts([
      { user: 'THESHIRE\\pgustavo', count: 185 },
      { user: 'theshire.local\\PGustavo', count: 3 },
      { user: 'pgustavo', count: 2 },
      { user: 'WORKSTATION5$', count: 40 },
      { user: 'NT AUTHORITY\\SYSTEM', count: 900 },
      { user: 'Window Manager\\DWM-1', count: 12 },
      { user: 'wardog', count: 5 },
      { user: 'THESHIRE\\wardog', count: 7 },
      { user: 'WORKSTATION5\\wardog', count: 9 },
    ]);
    expect(merged).toEqual([
      {
        user: 'THESHIRE\\pgustavo',
        count: 190,
        variants: ['THESHIRE\\pgustavo', 'theshire.local\\PGustavo', 'pgustavo'],
      },
      { user: 'WORKSTATION5\\wardog', count: 9, variants: ['WORKSTATION5\\wardog'] },
      { user: 'THESHIRE\\wardog', count: 7, variants: ['THESHIRE\\wardog'] },
      { user: 'wardog', count: 5, variants: ['wardog'] },
    ]);
  });

  it('resolves exact and bare names, and refuses an ambiguous bare name', () => {
    const known = ['THESHIRE\\pgustavo', 'THESHIRE\\wardog', 'WORKSTATION5\\wardog'];
    expect(resolveAccount(known, 'theshire.local\\PGUSTAVO')).toBe('THESHIRE\\pgustavo');
    expect(resolveAccount(known, 'pgustavo@theshire.local')).toBe('THESHIRE\\pgustavo');
    expect(resolveAccount(known, 'OTHER\\pgustavo')).toBeNull();
    expect(() => resolveAccount(known, 'wardog')).toThrow(InputError);
    expect(isSystemAccount('NT AUTHORITY\\LOCAL SERVICE')).toBe(true);
    expect(isSystemAccount('HARBOURLINE\\svc_backup')).toBe(false);
  });
});
