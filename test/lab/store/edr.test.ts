import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProcessAccess, ProcessTree } from '../../../src/capability/backends/types.js';
import { createBundledServer } from '../../../src/capability/servers/index.js';
import { createStoreBackends, loadLabPaths, loadSampleLab } from '../../../src/lab/index.js';
import { callError, callOk, connect } from '../../capability/servers/client.js';
import { sample, useTempHome } from '../helpers.js';
import { lsassCampaign, sharedDatasets } from '../loaders/shared.js';

const tempHome = useTempHome();

describe('DuckDB EDR', () => {
  it('builds the same process trees, connections and host summaries as the in-memory lab', async () => {
    const home = tempHome();
    const memory = loadSampleLab(home).edr;
    const { edr: store, ready } = createStoreBackends(home);
    for (const guid of Object.values(sample).filter((value) => value.startsWith('{'))) {
      expect(await store.processTree({ processGuid: guid }), guid).toEqual(
        await memory.processTree({ processGuid: guid }),
      );
    }
    expect(await store.processTree({ host: 'fin-ws01', pid: 6604 })).toEqual(
      await memory.processTree({ host: 'fin-ws01', pid: 6604 }),
    );
    expect(await store.processTree({ host: 'FIN-WS01', pid: 1 })).toBeNull();
    for (const query of [
      { processGuid: sample.powershellGuid, limit: 100 },
      { host: 'FS01', limit: 3 },
    ]) {
      expect(await store.networkConnections(query)).toEqual(await memory.networkConnections(query));
    }
    for (const host of ['FIN-WS01', '10.20.0.10', 'fs01']) {
      expect(await store.hostSummary(host), host).toEqual(await memory.hostSummary(host));
    }
    expect(await store.hostSummary('NOPE-01')).toBeNull();
    for (const query of [
      { host: 'FIN-WS01', limit: 50 },
      { processGuid: sample.powershellGuid, limit: 50 },
    ]) {
      expect(await store.registryWrites(query)).toEqual(await memory.registryWrites(query));
      expect(await store.fileWrites(query)).toEqual(await memory.fileWrites(query));
      expect(await store.imageLoads(query)).toEqual(await memory.imageLoads(query));
      expect(await store.processAccess(query)).toEqual(await memory.processAccess(query));
    }
    expect((await store.registryWrites({ host: 'FIN-WS01', limit: 50 })).length).toBeGreaterThan(0);
    (await ready()).close();
  });

  it('keeps response actions in endpoints.json and refuses processes that exited', async () => {
    const home = tempHome();
    const { edr, ready } = createStoreBackends(home);
    expect(await edr.isolateHost('fin-ws01', 'C2')).toMatchObject({ host: 'FIN-WS01', changed: true });
    expect((await loadSampleLab(home).edr.hostSummary('FIN-WS01'))?.isolated).toBe(true);
    expect(
      await edr.killProcess({ host: 'FIN-WS01', processGuid: sample.whoamiGuid, reason: 'x' }),
    ).toMatchObject({
      state: 'not_running',
    });
    await expect(
      edr.killProcess({ host: 'IT-WS01', processGuid: sample.powershellGuid, reason: 'x' }),
    ).rejects.toThrow(/runs on FIN-WS01/);
    await expect(edr.isolateHost('GHOST-99', 'x')).rejects.toThrow(/unknown host/);
    (await ready()).close();
  });

  it.skipIf(!sharedDatasets)(
    'resolves ancestors and descendants in a Security-Datasets campaign and finds its LSASS reads, over MCP',
    async () => {
      const home = tempHome();
      await loadLabPaths(home, [join(sharedDatasets ?? '', lsassCampaign)]);
      const { client } = await connect(createBundledServer('edr', { home }));
      const { accesses } = await callOk<{ accesses: ProcessAccess[] }>(client, 'process_access', {
        host: 'MKT01',
        targetImage: 'LSASS.EXE',
        limit: 500,
      });
      const dumper = accesses.find((access) => access.sourceImage?.endsWith('winx64_payload.exe'));
      expect(dumper).toMatchObject({ targetPid: 628, grantedAccess: expect.stringMatching(/^0x1[04]1?0$/) });
      const payload = await callOk<ProcessTree>(client, 'process_tree', {
        processGuid: dumper?.sourceProcessGuid,
      });
      const shell = payload.descendants.find((node) => node.depth === 1 && node.image.endsWith('cmd.exe'));
      expect(payload.descendants.map((node) => node.image.split('\\').at(-1))).toEqual(
        expect.arrayContaining(['cmd.exe', 'systeminfo.exe', 'whoami.exe', 'tasklist.exe']),
      );
      const tree = await callOk<ProcessTree>(client, 'process_tree', { processGuid: shell?.guid });
      expect(tree.ancestors[0]).toMatchObject({ guid: dumper?.sourceProcessGuid, pid: 1988 });
      expect(tree.descendants.every((node) => node.parentGuid !== null && node.depth >= 1)).toBe(true);
      expect(tree.descendants.length).toBeGreaterThan(0);
      const loads = await callOk<{ imageLoads: unknown[] }>(client, 'image_loads', {
        processGuid: dumper?.sourceProcessGuid,
        limit: 5,
      });
      expect(loads.imageLoads).toHaveLength(5);
      expect(await callError(client, 'file_writes', {})).toContain('give processGuid or host');
      expect(await callError(client, 'process_access', { targetImage: 'lsass.exe' })).toContain(
        'targetProcessGuid',
      );
    },
  );
});
