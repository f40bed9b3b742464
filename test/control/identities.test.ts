import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { criticalTargetOf, identityKey, loadAssets, sampleInventoryPath } from '../../src/control/index.js';
import { ConfigError } from '../../src/errors.js';
import { tempHome } from '../helpers.js';

describe('critical identities', () => {
  it('normalises the spellings of one account', () => {
    expect(identityKey('HARBOURLINE.LOCAL\\D.Reyes')).toBe('harbourline\\d.reyes');
    expect(identityKey('d.reyes@harbourline.local')).toBe('harbourline\\d.reyes');
    expect(identityKey(' svc_backup ')).toBe('svc_backup');
  });

  it('reads users and groups from the inventory and patterns from config; the highest match wins', () => {
    const dir = tempHome();
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(
      inventory,
      [
        'users:',
        '  CORP\\ceo: { criticality: high }',
        '  "adm-*": { criticality: critical }',
        'groups:',
        '  CORP\\Tier0:',
        '    criticality: critical',
        '    members: [CORP\\ceo, svc_ad_sync]',
        '  CORP\\Interns: { members: [CORP\\intern1] }',
      ].join('\n'),
    );
    const assets = loadAssets({
      inventory,
      hosts: {},
      users: { 'CORP\\intern*': 'medium', 'CORP\\cfo': 'critical' },
    });
    expect(assets.criticalityOfUser('CORP\\ceo')).toBe('critical'); // high by name, critical through Tier0
    expect(assets.criticalityOfUser('corp.example\\SVC_AD_SYNC')).toBe('critical');
    expect(assets.criticalityOfUser('OTHER\\adm-jane')).toBe('critical');
    expect(assets.criticalityOfUser('cfo@corp.example')).toBe('critical');
    expect(assets.criticalityOfUser('CORP\\intern1')).toBe('medium'); // a group without criticality adds nothing
    expect(assets.criticalityOfUser('OTHER\\cfo')).toBeNull(); // a domain-qualified pattern keeps its domain
    expect(assets.criticalityOfUser('CORP\\nobody')).toBeNull();
    // A group name is not a member of itself; regex characters in names are literal.
    expect(assets.criticalityOfUser('CORP\\Tier0')).toBeNull();
    expect(assets.criticalityOfUser('adm-x.y')).toBe('critical');
    expect(assets.criticalityOfUser('admZx')).toBeNull();
  });

  it('names the critical target of a call: host first, then user or username', () => {
    const assets = loadAssets({ inventory: sampleInventoryPath, hosts: {}, users: {} });
    expect(criticalTargetOf(assets, { host: 'DC01.harbourline.local' })).toEqual({
      kind: 'host',
      name: 'DC01.harbourline.local',
    });
    expect(criticalTargetOf(assets, { username: 'svc_backup' })).toEqual({
      kind: 'identity',
      name: 'svc_backup',
    });
    expect(criticalTargetOf(assets, { user: 'HARBOURLINE\\administrator' })).toMatchObject({
      kind: 'identity',
    });
    expect(criticalTargetOf(assets, { user: 'HARBOURLINE\\m.okafor', host: 'FIN-WS01' })).toBeNull();
    expect(criticalTargetOf(assets, { user: 42 })).toBeNull();
  });

  it('refuses an inventory whose users section is malformed, naming the field', () => {
    const dir = tempHome();
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(inventory, 'users:\n  bob: { criticality: extreme }\n');
    expect(() => loadAssets({ inventory, hosts: {} })).toThrow(ConfigError);
    expect(() => loadAssets({ inventory, hosts: {} })).toThrow(/users\.bob\.criticality/);
  });
});
