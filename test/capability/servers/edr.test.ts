import { describe, expect, it } from 'vitest';
import type {
  HostSummary,
  NetworkConnection,
  ProcessTree,
  ResponseOutcome,
} from '../../../src/capability/backends/types.js';
import { createEdrServer } from '../../../src/capability/servers/index.js';
import { loadSampleLab } from '../../../src/lab/index.js';
import { sample, useTempHome } from '../../lab/helpers.js';
import { callError, callOk, connect, expectTools } from './client.js';

const tempHome = useTempHome();
const edrFor = (home: string) => connect(createEdrServer(loadSampleLab(home).edr));

describe('edr MCP server', () => {
  it('lists its tools; response actions are annotated as destructive writes', async () => {
    const { tools } = await edrFor(tempHome());
    expectTools(tools, [
      'process_tree',
      'network_connections',
      'host_summary',
      'image_loads',
      'process_access',
      'file_writes',
      'registry_writes',
      'isolate_host',
      'release_host',
      'kill_process',
    ]);
    for (const name of ['isolate_host', 'release_host', 'kill_process']) {
      const tool = tools.find((candidate) => candidate.name === name);
      expect(tool?.annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      expect(tool?.inputSchema.required, name).toEqual(expect.arrayContaining(['host', 'reason']));
    }
  });

  it('shows mshta and outlook as ancestors and whoami as a descendant of the malicious PowerShell', async () => {
    const { client } = await edrFor(tempHome());
    const tree = await callOk<ProcessTree>(client, 'process_tree', { processGuid: sample.powershellGuid });
    expect(tree.ancestors.slice(0, 2).map((node) => node.image)).toEqual([
      'C:\\Windows\\System32\\mshta.exe',
      'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE',
    ]);
    expect(tree.descendants).toContainEqual(
      expect.objectContaining({
        guid: sample.whoamiGuid,
        depth: 1,
        commandLine: '"C:\\Windows\\system32\\whoami.exe" /all',
      }),
    );
    const fromOutlook = await callOk<ProcessTree>(client, 'process_tree', { host: 'FIN-WS01', pid: 8120 });
    expect(fromOutlook.descendants.map((node) => [node.image.split('\\').at(-1), node.depth])).toEqual([
      ['mshta.exe', 1],
      ['powershell.exe', 2],
      ['whoami.exe', 3],
      ['nltest.exe', 3],
    ]);
  });

  it('lists the callback connections of the process and summarises the host', async () => {
    const { client } = await edrFor(tempHome());
    const { connections } = await callOk<{ connections: NetworkConnection[] }>(
      client,
      'network_connections',
      { processGuid: sample.powershellGuid, limit: 2 },
    );
    expect(connections).toHaveLength(2);
    expect(connections[0]).toMatchObject({
      destinationIp: sample.callbackIp,
      destinationPort: 443,
      processGuid: sample.powershellGuid,
    });
    const summary = await callOk<HostSummary>(client, 'host_summary', { host: 'fs01' });
    expect(summary).toMatchObject({ host: 'FS01', ip: '10.20.0.20', criticality: 'high', isolated: false });
    expect(summary.users).toEqual(
      expect.arrayContaining(['HARBOURLINE\\d.reyes', 'HARBOURLINE\\j.lindqvist']),
    );
  });

  it('persists isolate_host across a fresh backend instance and reports no-ops', async () => {
    const home = tempHome();
    const { client } = await edrFor(home);
    const outcome = await callOk<ResponseOutcome>(client, 'isolate_host', {
      host: 'FIN-WS01',
      reason: 'C2 beacon to 203.0.113.47',
    });
    expect(outcome).toMatchObject({ host: 'FIN-WS01', changed: true, state: 'isolated' });
    const fresh = (await edrFor(home)).client;
    expect((await callOk<HostSummary>(fresh, 'host_summary', { host: 'FIN-WS01' })).isolated).toBe(true);
    expect(
      await callOk<ResponseOutcome>(fresh, 'isolate_host', {
        host: 'fin-ws01.harbourline.local',
        reason: 'again',
      }),
    ).toMatchObject({ changed: false });
    expect(
      await callOk<ResponseOutcome>(fresh, 'release_host', { host: 'FIN-WS01', reason: 'reimaged' }),
    ).toMatchObject({ changed: true, state: 'released' });
    expect((await callOk<HostSummary>(client, 'host_summary', { host: 'FIN-WS01' })).isolated).toBe(false);
  });

  it('kills the beaconing process once', async () => {
    const home = tempHome();
    const { client } = await edrFor(home);
    expect(
      await callOk<ResponseOutcome>(client, 'kill_process', {
        host: 'FIN-WS01',
        processGuid: sample.powershellGuid,
        reason: 'C2',
      }),
    ).toMatchObject({ state: 'killed', changed: true });
    const fresh = (await edrFor(home)).client;
    expect(
      await callOk<ResponseOutcome>(fresh, 'kill_process', { host: 'FIN-WS01', pid: 6604, reason: 'C2' }),
    ).toMatchObject({ state: 'not_running', changed: false });
  });

  it('returns readable errors for unknown hosts and processes and missing identifiers', async () => {
    const { client } = await edrFor(tempHome());
    expect(await callError(client, 'host_summary', { host: 'PAYROLL-99' })).toContain(
      'unknown host "PAYROLL-99"',
    );
    expect(await callError(client, 'isolate_host', { host: 'PAYROLL-99', reason: 'x' })).toContain(
      'unknown host',
    );
    expect(
      await callError(client, 'process_tree', { processGuid: '{00000000-0000-0000-0000-000000000000}' }),
    ).toContain('no process-start record');
    expect(await callError(client, 'process_tree', { host: 'FIN-WS01' })).toContain(
      'give processGuid, or host and pid',
    );
    expect(await callError(client, 'network_connections', {})).toContain('give processGuid or host');
    expect(await callError(client, 'kill_process', { host: 'FIN-WS01', reason: 'x' })).toContain(
      'processGuid or pid',
    );
    expect(await callError(client, 'isolate_host', { host: 'FIN-WS01' })).toMatch(/reason/);
  });
});
