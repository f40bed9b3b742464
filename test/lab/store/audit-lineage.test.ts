import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProcessTree } from '../../../src/capability/backends/types.js';
import { createEventStore } from '../../../src/lab/events.js';
import { linkAuditParents, loadLabPaths, normaliseEvent, openLabStore } from '../../../src/lab/index.js';
import { createMemoryTelemetry, createProcessIndex } from '../../../src/lab/processes.js';
import { useTempHome } from '../helpers.js';
import { sharedDatasets } from '../loaders/shared.js';

const tempHome = useTempHome();

/** A Security 4688 record in the NXLog layout of Security-Datasets. */
function creation(at: string, pid: number, parentPid: number, image: string, host = 'WS7.corp.example') {
  return {
    '@timestamp': at,
    Hostname: host,
    Channel: 'Security',
    EventID: 4688,
    NewProcessId: `0x${pid.toString(16)}`,
    ProcessId: `0x${parentPid.toString(16)}`,
    NewProcessName: image,
    CommandLine: image.split('\\').at(-1),
    SubjectUserName: 'alice',
    SubjectDomainName: 'CORP',
  };
}

// pid 0x100 is used twice: cmd.exe at 10:00, then (after it exited) excel.exe at 11:00.
const fixture = [
  creation('2024-05-01T09:59:00.000Z', 0x100, 0x4, 'C:\\Windows\\System32\\cmd.exe'),
  creation('2024-05-01T10:00:05.000Z', 0x200, 0x100, 'C:\\Windows\\System32\\whoami.exe'),
  creation('2024-05-01T11:00:00.000Z', 0x100, 0x8, 'C:\\Program Files\\Office\\excel.exe'),
  creation('2024-05-01T11:00:03.000Z', 0x300, 0x100, 'C:\\Windows\\System32\\mshta.exe'),
  creation('2024-05-01T11:00:04.000Z', 0x310, 0x300, 'C:\\Windows\\System32\\powershell.exe'),
  // Same pids on another host: never a parent across hosts.
  creation('2024-05-01T10:30:00.000Z', 0x100, 0x4, 'C:\\Windows\\System32\\svchost.exe', 'WS8'),
];

const images = (nodes: ReadonlyArray<{ image: string }>) =>
  nodes.map((node) => node.image.split('\\').at(-1));

function expectFixtureLineage(byPid: (pid: number) => Promise<ProcessTree | null>) {
  return async () => {
    const whoami = await byPid(0x200);
    expect(images(whoami?.ancestors ?? [])).toEqual(['cmd.exe']);
    const powershell = await byPid(0x310);
    expect(images(powershell?.ancestors ?? [])).toEqual(['mshta.exe', 'excel.exe']);
    const excel = await byPid(0x100);
    expect(excel?.process.image).toContain('excel.exe');
    expect(excel?.descendants.map((node) => [images([node])[0], node.depth])).toEqual([
      ['mshta.exe', 1],
      ['powershell.exe', 2],
    ]);
  };
}

describe('Security 4688 process lineage (no Sysmon GUIDs)', () => {
  it('links a child to the latest creation of its creator pid on the host, in memory', async () => {
    const events = fixture.map((raw, index) => normaliseEvent(raw, `f-${index + 1}`));
    linkAuditParents(events);
    const telemetry = createMemoryTelemetry(createEventStore(events), createProcessIndex(events));
    await expectFixtureLineage(async (pid) => {
      const node = await telemetry.processByPid('WS7', pid);
      return node ? telemetry.processTree(node) : null;
    })();
  });

  it('links the same way in the DuckDB store, across loads and whichever file comes first', async () => {
    const home = tempHome();
    const dir = tempHome();
    // Children first, parents in a second load: the link is made when the parent arrives.
    writeFileSync(
      join(dir, 'children.jsonl'),
      `${[1, 3, 4].map((at) => JSON.stringify(fixture[at])).join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'parents.jsonl'),
      `${[0, 2, 5].map((at) => JSON.stringify(fixture[at])).join('\n')}\n`,
    );
    await loadLabPaths(home, [join(dir, 'children.jsonl')], { seedFile: null });
    await loadLabPaths(home, [join(dir, 'parents.jsonl')], { seedFile: null });
    const store = await openLabStore(home, { readOnly: true, seedFile: null });
    try {
      await expectFixtureLineage(async (pid) => {
        const node = await store.telemetry.processByPid('ws7.corp.example', pid);
        return node ? store.telemetry.processTree(node) : null;
      })();
      const page = await store.siem.searchEvents({ commandLine: 'mshta', limit: 5, offset: 0 });
      const mshta = page.events[0];
      expect(mshta?.process?.guid).toBe('{4688-WS7-0x300-1714561203000}');
      expect(mshta?.parent?.guid).toBe('{4688-WS7-0x100-1714561200000}');
      const byGuid = await store.telemetry.processByGuid('4688-ws7-0x300-1714561203000');
      expect(byGuid?.image).toContain('mshta.exe');
    } finally {
      store.close();
    }
  });

  it.skipIf(!sharedDatasets)(
    'rebuilds the fodhelper UAC bypass chain of a real dataset from 4688 alone',
    async () => {
      const home = tempHome();
      const archive = join(
        sharedDatasets ?? '',
        'security-datasets/atomic/windows/privilege_escalation/host/empire_uac_shellapi_fodhelper.zip',
      );
      await loadLabPaths(home, [archive], { seedFile: null });
      const store = await openLabStore(home, { readOnly: true, seedFile: null });
      try {
        const page = await store.siem.searchEvents({
          eventCode: 4688,
          commandLine: 'whoami.exe"',
          limit: 5,
          offset: 0,
        });
        const guid = page.events.find((event) => event.process?.pid === 0x1968)?.process?.guid;
        expect(guid).toMatch(/^\{4688-WORKSTATION5-0x1968-\d+\}$/);
        const node = await store.telemetry.processByGuid(guid ?? '');
        const tree = node ? await store.telemetry.processTree(node) : null;
        // whoami ← powershell (0xf60) ← powershell (0x1e8c) ← fodhelper (0x1b6c), which the attacker's powershell started.
        expect(tree?.ancestors.map((ancestor) => ancestor.pid)).toEqual([0xf60, 0x1e8c, 0x1b6c]);
        expect(images(tree?.ancestors ?? [])).toEqual(['powershell.exe', 'powershell.exe', 'fodhelper.exe']);
        const fodhelper = tree?.ancestors.at(-1);
        const below = fodhelper ? await store.telemetry.processTree(fodhelper) : null;
        expect(below?.descendants.map((child) => child.pid)).toEqual([0x1e8c, 0x1350, 0xf60, 0x1968]);
      } finally {
        store.close();
      }
    },
  );
});
