import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  GroupInfo,
  IndicatorVerdict,
  IntelBackend,
  SoftwareInfo,
  TechniqueDetail,
} from '../../../src/capability/backends/types.js';
import { createIntelServer } from '../../../src/capability/servers/index.js';
import { createIntelFromSources } from '../../../src/lab/index.js';
import { attackBundlePath, hasIntelDatasets, maltrailDir } from '../../lab/intel/datasets.js';
import { callError, callOk, connect } from './client.js';

const ownSha256 = '5f3a9c0e7b1d2a4f6e8c0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f21';

describe.skipIf(!hasIntelDatasets())('intel MCP server on ATT&CK STIX and all maltrail trails', () => {
  let feedDir = '';
  let backend: IntelBackend;

  beforeAll(async () => {
    feedDir = mkdtempSync(join(tmpdir(), 'warden-own-feed-'));
    writeFileSync(
      join(feedDir, 'payroll_stealer.txt'),
      `# Reference: https://intel.example.org/payroll\n${ownSha256}  invoice.exe\n`,
    );
    backend = createIntelFromSources({
      attackBundle: attackBundlePath,
      trailDirs: [maltrailDir],
      feedDirs: [feedDir],
    });
    // Load both sources once, outside the individual tests' timings.
    await backend.lookupIndicator('192.0.2.1');
    await backend.lookupTechnique('T1059');
  });
  afterAll(() => rmSync(feedDir, { recursive: true, force: true }));

  it('looks up a sub-technique by id and by "Parent: Sub" name, with STIX-only detail', async () => {
    const { client } = await connect(createIntelServer(backend));
    const technique = await callOk<TechniqueDetail>(client, 'lookup_technique', { id: 'attack.t1059.001' });
    expect(technique).toMatchObject({
      id: 'T1059.001',
      name: 'PowerShell',
      tactics: ['execution'],
      parent: 'T1059',
      platforms: ['Windows'],
      source: 'attack-stix',
      deprecated: false,
      revoked: false,
      url: 'https://attack.mitre.org/techniques/T1059/001/',
    });
    expect(technique.dataSources).toContain('Process Creation');
    expect(technique.detections[0]?.id).toMatch(/^DET\d{4}$/);
    expect(technique.description).not.toContain('(Citation:');
    const byName = await callOk<TechniqueDetail>(client, 'lookup_technique', {
      name: 'command and scripting interpreter: powershell',
    });
    expect(byName.id).toBe('T1059.001');
    expect((await callOk<TechniqueDetail>(client, 'lookup_technique', { name: 'Mshta' })).id).toBe(
      'T1218.005',
    );
    expect(await callError(client, 'lookup_technique', { id: 'T1999' })).toContain('not in the reference');
  });

  it('looks up a group by alias with the techniques and software it uses', async () => {
    const { client } = await connect(createIntelServer(backend));
    const group = await callOk<GroupInfo>(client, 'lookup_group', { query: 'cozy bear' });
    expect(group).toMatchObject({ id: 'G0016', name: 'APT29', source: 'attack-stix' });
    expect(group.aliases).toContain('Cozy Bear');
    expect(group.techniques.map((technique) => technique.id)).toContain('T1059.001');
    expect(group.software).toContainEqual({ id: 'S0002', name: 'Mimikatz' });
    expect((await callOk<GroupInfo>(client, 'lookup_group', { query: 'g0016' })).name).toBe('APT29');
    expect(await callError(client, 'lookup_group', { query: 'Harbourline Pandas' })).toContain(
      'no ATT&CK group',
    );
  });

  it('looks up software by name with its type, techniques and groups', async () => {
    const { client } = await connect(createIntelServer(backend));
    const software = await callOk<SoftwareInfo>(client, 'lookup_software', { query: 'MIMIKATZ' });
    expect(software).toMatchObject({ id: 'S0002', type: 'tool', source: 'attack-stix' });
    expect(software.techniques.map((technique) => technique.id)).toContain('T1003.001');
    expect(software.groups.map((group) => group.id)).toContain('G0016');
    expect(await callError(client, 'lookup_software', { query: 'S9999' })).toContain('no ATT&CK software');
  });

  it('finds maltrail hits by IP, by subdomain and by URL path, naming family, category and reference', async () => {
    const { client } = await connect(createIntelServer(backend));
    const ip = await callOk<IndicatorVerdict>(client, 'lookup_indicator', { value: '185.142.236.226' });
    expect(ip).toMatchObject({
      verdict: 'malicious',
      matches: [{ source: 'maltrail', family: 'apt_lazarus', category: 'malware', matchedOn: 'exact' }],
    });
    expect(ip.matches[0]?.reference).toMatch(/^https?:\/\//);

    const subdomain = await callOk<IndicatorVerdict>(client, 'lookup_indicator', {
      value: 'mail.bardubar.com',
    });
    expect(subdomain).toMatchObject({
      type: 'domain',
      verdict: 'malicious',
      matches: [{ family: 'emotet', matched: 'bardubar.com', matchedOn: 'parent_domain' }],
    });

    const url = await callOk<IndicatorVerdict>(client, 'lookup_indicator', {
      value: 'hxxps://shahrproject[.]ir/wp--admin/includes/load.php?id=7',
    });
    expect(url).toMatchObject({
      type: 'url',
      verdict: 'malicious',
      matches: [{ family: 'agenttesla', matched: 'shahrproject.ir/wp--admin', matchedOn: 'url_prefix' }],
    });
  });

  it("finds the user's own hash feed and gives no hit for clean indicators", async () => {
    const { client } = await connect(createIntelServer(backend));
    expect(
      await callOk<IndicatorVerdict>(client, 'lookup_indicator', { value: ownSha256.toUpperCase() }),
    ).toMatchObject({
      type: 'hash',
      verdict: 'malicious',
      matches: [
        { family: 'payroll_stealer', reference: 'https://intel.example.org/payroll', matchedOn: 'exact' },
      ],
    });
    for (const value of [
      'https://en.wikipedia.org/wiki/Main_Page',
      'www.harbourline-logistics.example',
      '10.20.1.21',
      'https://example.com/',
      'd41d8cd98f00b204e9800998ecf8427f',
    ]) {
      expect(await callOk<IndicatorVerdict>(client, 'lookup_indicator', { value }), value).toMatchObject({
        verdict: 'unknown',
        matches: [],
      });
    }
  });
});
