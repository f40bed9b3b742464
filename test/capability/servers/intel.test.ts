import { describe, expect, it } from 'vitest';
import type {
  IndicatorVerdict,
  TechniqueDetail,
  TechniqueInfo,
} from '../../../src/capability/backends/types.js';
import { createIntelServer } from '../../../src/capability/servers/index.js';
import { loadSampleLab } from '../../../src/lab/index.js';
import { sample, useTempHome } from '../../lab/helpers.js';
import { callError, callOk, connect, expectTools } from './client.js';

const tempHome = useTempHome();

describe('intel MCP server', () => {
  it('lists its tools as read-only', async () => {
    const { tools } = await connect(createIntelServer(loadSampleLab(tempHome()).intel));
    expectTools(tools, ['lookup_indicator', 'lookup_technique', 'lookup_group', 'lookup_software']);
    expect(
      tools.every(
        (tool) => tool.annotations?.readOnlyHint === true && tool.annotations.destructiveHint === false,
      ),
    ).toBe(true);
  });

  it('reports the callback IP, domain and URL as malicious, with family and reference', async () => {
    const { client } = await connect(createIntelServer(loadSampleLab(tempHome()).intel));
    const ip = await callOk<IndicatorVerdict>(client, 'lookup_indicator', { value: sample.callbackIp });
    expect(ip).toMatchObject({
      value: sample.callbackIp,
      type: 'ip',
      verdict: 'malicious',
      matches: [{ family: 'remitloader' }],
    });
    expect(ip.matches[0]?.reference).toContain('intel.example.org');
    expect(
      await callOk<IndicatorVerdict>(client, 'lookup_indicator', { value: sample.callbackDomain }),
    ).toMatchObject({ type: 'domain', verdict: 'malicious' });
    const url = await callOk<IndicatorVerdict>(client, 'lookup_indicator', {
      value: `https://${sample.callbackDomain}/api/v2/sync`,
      type: 'url',
    });
    expect(url).toMatchObject({ type: 'url', verdict: 'malicious' });
    expect(
      await callOk<IndicatorVerdict>(client, 'lookup_indicator', { value: '52.97.146.162' }),
    ).toMatchObject({ verdict: 'unknown', matches: [] });
  });

  it('returns technique details, and readable errors for unknown or malformed ids', async () => {
    const { client } = await connect(createIntelServer(loadSampleLab(tempHome()).intel));
    const technique = await callOk<TechniqueInfo>(client, 'lookup_technique', { id: 'T1059.001' });
    expect(technique).toMatchObject({
      name: 'PowerShell',
      tactics: ['execution'],
      url: 'https://attack.mitre.org/techniques/T1059/001/',
    });
    expect(await callError(client, 'lookup_technique', { id: 'T1999' })).toContain('not in the reference');
    expect(await callError(client, 'lookup_technique', { id: 'powershell' })).toContain(
      'not an ATT&CK technique id',
    );
    expect(await callError(client, 'lookup_indicator', { value: 'evil.example', type: 'hash' })).toContain(
      'not an MD5',
    );
    expect(await callError(client, 'lookup_technique', {})).toContain('give a technique id or a name');
  });

  it('answers from the sample technique list, says so, and explains why groups and software are missing', async () => {
    const { client } = await connect(createIntelServer(loadSampleLab(tempHome()).intel));
    const byName = await callOk<TechniqueDetail>(client, 'lookup_technique', { name: 'mshta' });
    expect(byName).toMatchObject({
      id: 'T1218.005',
      source: 'sample-techniques',
      parent: 'T1218',
      platforms: [],
    });
    expect(await callError(client, 'lookup_group', { query: 'APT29' })).toContain(
      'need the ATT&CK STIX bundle',
    );
    expect(await callError(client, 'lookup_software', { query: 'Mimikatz' })).toContain(
      'lab.intel.attackBundle',
    );
  });
});
