import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { environmentAssetsPath } from '../../src/agent/index.js';
import {
  loadAssets,
  parseEnvironmentAssets,
  readEnvironmentAssets,
  sampleInventoryPath,
} from '../../src/control/index.js';
import { ConfigError } from '../../src/errors.js';
import { bundledSkillsDirectory, loadSkills } from '../../src/knowledge/index.js';
import { tempHome } from '../helpers.js';

const home = tempHome('warden-assets-');
afterAll(() => rmSync(home, { recursive: true, force: true }));

const environment = `
hosts:
  FS01: { criticality: critical, owner: IT }
  WS9: { criticality: low }
patterns:
  - { match: "DC*", criticality: critical, signOff: [asset-owner, security-lead] }
  - { match: "*-SQL*", criticality: high }
users:
  CORP\\svc_backup: { criticality: high, owner: IT operations, signOff: [asset-owner] }
  krbtgt: { criticality: critical }
signOff:
  critical: [asset-owner, security-lead]
  high: [security-lead]
`;

describe('asset registry: inventory, then the environment skill, then config', () => {
  test('the environment skill overrides the inventory, and config overrides both', () => {
    const path = join(home, 'assets.yaml');
    writeFileSync(path, environment);
    const registry = loadAssets({
      inventory: sampleInventoryPath,
      environment: path,
      hosts: { WS9: 'high' },
    });
    expect(registry.criticalityOf('FIN-WS01')).toBe('high');
    expect(registry.criticalityOf('fs01.harbourline.local')).toBe('critical');
    expect(registry.criticalityOf('WS9')).toBe('high');
    expect(registry.criticalityOf('DC07')).toBe('critical');
    expect(registry.criticalityOf('PAY-SQL02')).toBe('high');
    expect(registry.criticalityOf('UNKNOWN-HOST')).toBeNull();
  });

  test('an exact host in the inventory wins over an environment pattern', () => {
    const registry = loadAssets({
      inventory: null,
      environment: parseEnvironmentAssets(
        'hosts: {}\npatterns: [{ match: "DC*", criticality: critical }]',
        'x',
      ),
      hosts: {},
    });
    expect(registry.criticalityOf('DC01')).toBe('critical');
    const withInventory = loadAssets({
      inventory: sampleInventoryPath,
      environment: parseEnvironmentAssets('patterns: [{ match: "SALES-*", criticality: critical }]', 'x'),
      hosts: {},
    });
    expect(withInventory.criticalityOf('SALES-WS02')).toBe('medium');
  });

  test('accounts and sign-off rules are readable for other control checks', () => {
    const assets = parseEnvironmentAssets(environment, 'assets.yaml');
    expect(assets.user('CORP\\svc_backup')).toMatchObject({ criticality: 'high', owner: 'IT operations' });
    expect(assets.user('corp\\SVC_BACKUP')?.criticality).toBe('high');
    expect(assets.user('svc_backup')?.criticality).toBe('high');
    expect(assets.user('OTHER\\krbtgt')?.criticality).toBe('critical');
    expect(assets.user('CORP\\alice')).toBeNull();
    expect(assets.signOffFor('critical')).toEqual(['asset-owner', 'security-lead']);
    expect(assets.signOffFor('high', assets.user('CORP\\svc_backup'))).toEqual(['asset-owner']);
    expect(assets.signOffFor('low')).toEqual([]);
  });

  test.each([
    ['hosts: { A: { criticality: extreme } }', 'hosts.A.criticality'],
    ['hosts: { A: { criticality: low, colour: red } }', 'hosts.A'],
    ['signOff: { high: ["Security Lead"] }', 'signOff.high.0'],
    ['hosts: [', 'not valid YAML'],
  ])('a malformed asset file names the field: %s', (text, field) => {
    expect(() => parseEnvironmentAssets(text, 'assets.yaml')).toThrow(ConfigError);
    expect(() => parseEnvironmentAssets(text, 'assets.yaml')).toThrow(field);
  });

  test('the bundled environment skill carries the asset file the runtime hands to the control layer', async () => {
    const { skills } = await loadSkills([bundledSkillsDirectory]);
    const path = environmentAssetsPath(skills);
    expect(path).toBe(join(bundledSkillsDirectory, 'environment', 'assets.yaml'));
    const assets = readEnvironmentAssets(path ?? '');
    expect(assets.hosts.get('DC01')?.criticality).toBe('critical');
    expect(assets.user('HARBOURLINE\\krbtgt')?.criticality).toBe('critical');
    expect(environmentAssetsPath(skills.filter((skill) => skill.name !== 'environment'))).toBeNull();
  });
});
