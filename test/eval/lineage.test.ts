import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAttackerCommands, parseListedImplants } from '../../src/eval/build/commands.js';
import { attackerProcesses, isDroppedImage } from '../../src/eval/build/lineage.js';
import { loadLabPaths } from '../../src/lab/index.js';
import { openLabStore } from '../../src/lab/store/index.js';
import { tempHome } from '../helpers.js';

const host = 'WORKSTATION5.theshire.local';
const sysmon = {
  Hostname: host,
  Channel: 'Microsoft-Windows-Sysmon/Operational',
  SourceName: 'Microsoft-Windows-Sysmon',
};
const psExe = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const runKeyCommand = `${psExe} -c "$x=$((gp HKCU:Software\\Microsoft\\Windows\\CurrentVersion Debug).Debug);powershell -Win Hidden -enc $x"`;
let clock = Date.parse('2020-09-04T07:00:00Z');
const at = () => {
  clock += 1000;
  return new Date(clock).toISOString();
};

function start(
  guid: string,
  pid: number,
  image: string,
  commandLine: string,
  parent: [string, number, string],
) {
  return {
    ...sysmon,
    '@timestamp': at(),
    EventID: 1,
    ProcessGuid: guid,
    ProcessId: String(pid),
    Image: image,
    CommandLine: commandLine,
    ParentProcessGuid: parent[0],
    ParentProcessId: String(parent[1]),
    ParentImage: parent[2],
  };
}

const explorer: [string, number, string] = [
  '{00000000-0000-0000-0000-00000000e000}',
  4000,
  'C:\\Windows\\explorer.exe',
];
const agent: [string, number, string] = ['{00000000-0000-0000-0000-00000000a9e0}', 5376, psExe];
const services: [string, number, string] = [
  '{00000000-0000-0000-0000-0000000005e0}',
  604,
  'C:\\Windows\\System32\\services.exe',
];
const taskHost: [string, number, string] = [
  '{00000000-0000-0000-0000-0000000007a5}',
  1200,
  'C:\\Windows\\System32\\svchost.exe',
];

const dcomLaunch: [string, number, string] = [
  '{00000000-0000-0000-0000-000000000dc0}',
  900,
  'C:\\Windows\\System32\\svchost.exe',
];
const dllhost = 'C:\\Windows\\System32\\dllhost.exe';
const comSurrogate = (n: number) => `{00000000-0000-0000-0000-000000000${n}}`;
const rpcssTrace =
  'C:\\windows\\SYSTEM32\\ntdll.dll+9c584|C:\\windows\\System32\\KERNELBASE.dll+305fe|c:\\windows\\system32\\rpcss.dll+47d62';

/** A Sysmon 10 record: `source` opened `target`, with this call stack. */
function access(source: [string, number, string], target: [string, number, string], callTrace: string) {
  return {
    ...sysmon,
    '@timestamp': at(),
    EventID: 10,
    SourceProcessGUID: source[0],
    SourceProcessId: String(source[1]),
    SourceImage: source[2],
    TargetProcessGUID: target[0],
    TargetProcessId: String(target[1]),
    TargetImage: target[2],
    GrantedAccess: '0x1000',
    CallTrace: callTrace,
  };
}

/**
 * An Empire agent started before the recording (known from the console's `agents` table only),
 * persisting through a Run key and a scheduled task; a Meterpreter implant delivered by a
 * self-extracting dropper, staging a DLL that a service then runs; and look-alikes that are not
 * the attacker's.
 */
const events = [
  // The agent's own events carry its GUID; its start is not recorded.
  {
    ...sysmon,
    '@timestamp': at(),
    EventID: 13,
    ProcessGuid: agent[0],
    ProcessId: '5376',
    Image: psExe,
    TargetObject: 'HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater',
    Details: runKeyCommand,
  },
  start(
    '{00000000-0000-0000-0000-000000000101}',
    7001,
    'C:\\Windows\\System32\\schtasks.exe',
    `"C:\\windows\\system32\\schtasks.exe" /Create /F /SC DAILY /TN Sync /TR "${psExe} -NonI -W hidden -c IEX (gp HKCU:Software\\Sync).Sync"`,
    agent,
  ),
  // Later: the Run key fires at logon, the task fires from the scheduler.
  start('{00000000-0000-0000-0000-000000000102}', 7002, psExe, runKeyCommand, explorer),
  start(
    '{00000000-0000-0000-0000-000000000103}',
    7003,
    psExe,
    `${psExe} -NonI -W hidden -c IEX (gp HKCU:Software\\Sync).Sync`,
    taskHost,
  ),
  start('{00000000-0000-0000-0000-000000000104}', 7004, 'C:\\Windows\\System32\\whoami.exe', 'whoami /all', [
    '{00000000-0000-0000-0000-000000000103}',
    7003,
    psExe,
  ]),
  // The user's own PowerShell from Explorer, and a console host with the same arguments as everyone's.
  start('{00000000-0000-0000-0000-000000000105}', 7005, psExe, `${psExe} -NoLogo -NoProfile`, explorer),
  start(
    '{00000000-0000-0000-0000-000000000106}',
    7006,
    'C:\\Windows\\System32\\conhost.exe',
    '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1',
    ['{00000000-0000-0000-0000-000000000101}', 7001, 'C:\\Windows\\System32\\schtasks.exe'],
  ),
  start(
    '{00000000-0000-0000-0000-000000000107}',
    7007,
    'C:\\Windows\\System32\\conhost.exe',
    '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1',
    explorer,
  ),
  // Meterpreter: a dropper from Downloads extracts the implant; the attacker's shell runs from it.
  start(
    '{00000000-0000-0000-0000-000000000201}',
    8001,
    'C:\\Users\\nora\\Downloads\\happy_image.jpeg.exe',
    '"C:\\Users\\nora\\Downloads\\happy_image.jpeg.exe"',
    explorer,
  ),
  start(
    '{00000000-0000-0000-0000-000000000202}',
    8002,
    'C:\\Users\\nora\\AppData\\Local\\Temp\\RarSFX1\\payload.exe',
    'payload.exe',
    ['{00000000-0000-0000-0000-000000000201}', 8001, 'C:\\Users\\nora\\Downloads\\happy_image.jpeg.exe'],
  ),
  start(
    '{00000000-0000-0000-0000-000000000203}',
    8003,
    'C:\\Windows\\System32\\cmd.exe',
    'C:\\Windows\\system32\\cmd.exe',
    [
      '{00000000-0000-0000-0000-000000000202}',
      8002,
      'C:\\Users\\nora\\AppData\\Local\\Temp\\RarSFX1\\payload.exe',
    ],
  ),
  start(
    '{00000000-0000-0000-0000-000000000204}',
    8004,
    'C:\\Windows\\System32\\systeminfo.exe',
    'systeminfo',
    ['{00000000-0000-0000-0000-000000000203}', 8003, 'C:\\Windows\\System32\\cmd.exe'],
  ),
  {
    ...sysmon,
    '@timestamp': at(),
    EventID: 11,
    ProcessGuid: '{00000000-0000-0000-0000-000000000202}',
    ProcessId: '8002',
    Image: 'C:\\Users\\nora\\AppData\\Local\\Temp\\RarSFX1\\payload.exe',
    TargetFilename: 'C:\\Users\\NORA~1\\AppData\\Local\\Temp\\rtcpef.dll',
  },
  start(
    '{00000000-0000-0000-0000-000000000205}',
    8005,
    'C:\\Windows\\System32\\rundll32.exe',
    'rundll32.exe C:\\Users\\NORA~1\\AppData\\Local\\Temp\\rtcpef.dll,a /p:rtcpef',
    services,
  ),
  // The agent injects into one Notepad; Windows' console host starts a thread in another.
  start(
    '{00000000-0000-0000-0000-000000000301}',
    9001,
    'C:\\Windows\\System32\\notepad.exe',
    'notepad.exe',
    explorer,
  ),
  start(
    '{00000000-0000-0000-0000-000000000302}',
    9002,
    'C:\\Windows\\System32\\notepad.exe',
    'notepad.exe',
    explorer,
  ),
  {
    ...sysmon,
    '@timestamp': at(),
    EventID: 8,
    SourceProcessGuid: agent[0],
    SourceProcessId: '5376',
    SourceImage: psExe,
    TargetProcessGuid: '{00000000-0000-0000-0000-000000000301}',
    TargetProcessId: '9001',
    TargetImage: 'C:\\Windows\\System32\\notepad.exe',
  },
  {
    ...sysmon,
    '@timestamp': at(),
    EventID: 8,
    SourceProcessGuid: '{00000000-0000-0000-0000-0000000c5e55}',
    SourceProcessId: '512',
    SourceImage: 'C:\\Windows\\System32\\csrss.exe',
    TargetProcessGuid: '{00000000-0000-0000-0000-000000000302}',
    TargetProcessId: '9002',
    TargetImage: 'C:\\Windows\\System32\\notepad.exe',
  },
  start(
    '{00000000-0000-0000-0000-000000000303}',
    9003,
    'C:\\Windows\\System32\\PING.EXE',
    'ping -n 1 10.0.0.1',
    ['{00000000-0000-0000-0000-000000000301}', 9001, 'C:\\Windows\\System32\\notepad.exe'],
  ),
  // COM activation: the agent asks for an elevated COM object; the DCOM launcher checks it from RPCSS,
  // then starts the object's surrogate, which runs a shell. Explorer's activation and a routine open
  // of the agent (no RPCSS frame) are followed by surrogates that are not the attacker's.
  access(dcomLaunch, agent, rpcssTrace),
  start(
    comSurrogate(401),
    9401,
    dllhost,
    `${dllhost} /Processid:{3E5FC7F9-9A51-4367-9063-A120244FBEC7}`,
    dcomLaunch,
  ),
  start(
    '{00000000-0000-0000-0000-000000000402}',
    9402,
    'C:\\Windows\\System32\\cmd.exe',
    'c:\\windows\\system32\\cmd.exe',
    [comSurrogate(401), 9401, dllhost],
  ),
  access(dcomLaunch, explorer, rpcssTrace),
  start(
    comSurrogate(403),
    9403,
    dllhost,
    `${dllhost} /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}`,
    dcomLaunch,
  ),
  access(
    dcomLaunch,
    agent,
    'C:\\windows\\SYSTEM32\\ntdll.dll+9c584|C:\\windows\\SYSTEM32\\psmserviceexthost.dll+222a3',
  ),
  start(
    comSurrogate(404),
    9404,
    dllhost,
    `${dllhost} /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}`,
    dcomLaunch,
  ),
  // Another service's rundll32, and Edge, which downloaded the dropper: not the attacker's.
  start(
    '{00000000-0000-0000-0000-000000000206}',
    8006,
    'C:\\Windows\\System32\\rundll32.exe',
    'rundll32.exe C:\\Windows\\System32\\shell32.dll,SHCreateLocalServerRunDll',
    services,
  ),
];

const adversaryView = `(Empire: agents) > agents
Name     La Internal IP     Machine Name      Username                Process            PID    Delay    Last Seen            Listener
----     -- -----------     ------------      --------                -------            ---    -----    ---------            ----------------
KU86XWEL ps 172.18.39.5     WORKSTATION5      THESHIRE\\pgustavo       powershell         5376   5/0.0    2020-09-04 07:02:57  http
(Empire: KU86XWEL) > usemodule persistence/userland/registry
meterpreter > shell
Process 8003 created.
C:\\Users\\nora\\Downloads>systeminfo`;

describe('lineage labels: what the attacker staged and listed', () => {
  it('reads the agents a C2 console lists, by machine, process and PID', () => {
    expect(parseListedImplants(adversaryView)).toEqual([
      { machine: 'workstation5', program: 'powershell', pid: 5376 },
    ]);
    expect(parseListedImplants('Name La Internal IP\n[*] Active agents:')).toEqual([]);
  });

  it('follows listed agents, their persistence, dropped files, delivery chain, injections and COM activations, and nothing else', async () => {
    const dir = tempHome('warden-lineage-');
    const dataset = join(dir, 'empire_and_meterpreter.json');
    writeFileSync(dataset, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const scratch = tempHome('warden-lineage-scratch-');
    await loadLabPaths(scratch, [dataset], { seedFile: null });
    const store = await openLabStore(scratch, { readOnly: true, seedFile: null });
    try {
      const files = await store.database.all('SELECT file_id, path FROM files');
      const fileId = Number(files.find((row) => resolve(String(row.path)) === resolve(dataset))?.file_id);
      const attacker = await attackerProcesses(
        store.database,
        fileId,
        parseAttackerCommands(adversaryView),
        parseListedImplants(adversaryView),
      );
      // The store keys a process by its GUID without braces.
      const byGuid = (guid: string) =>
        attacker.isAttacker({
          host: host.toLowerCase(),
          guid: guid.replace(/[{}]/g, ''),
          pid: null,
          ms: clock,
        });
      const guidOf = (pid: number) => `{00000000-0000-0000-0000-000000000${pid - 6900}}`;
      // The listed agent, though its start is not recorded, and the schtasks it ran.
      expect(byGuid(agent[0])).toBe(true);
      expect(byGuid(guidOf(7001))).toBe(true);
      // What its Run-key value and its scheduled task started later, and their children.
      expect(byGuid(guidOf(7002))).toBe(true);
      expect(byGuid(guidOf(7003))).toBe(true);
      expect(byGuid(guidOf(7004))).toBe(true);
      // The implant, the dropper that delivered it, and the service that ran the DLL it wrote.
      expect(byGuid('{00000000-0000-0000-0000-000000000202}')).toBe(true);
      expect(byGuid('{00000000-0000-0000-0000-000000000201}')).toBe(true);
      expect(byGuid('{00000000-0000-0000-0000-000000000205}')).toBe(true);
      // The Notepad the agent injected into, and what it started; not the one csrss touched.
      expect(byGuid('{00000000-0000-0000-0000-000000000301}')).toBe(true);
      expect(byGuid('{00000000-0000-0000-0000-000000000303}')).toBe(true);
      expect(byGuid('{00000000-0000-0000-0000-000000000302}')).toBe(false);
      // The elevated COM object's surrogate the agent's activation started, and the shell it ran; not the
      // surrogates of Explorer's activation or of a routine open of the agent.
      expect(byGuid(comSurrogate(401))).toBe(true);
      expect(byGuid('{00000000-0000-0000-0000-000000000402}')).toBe(true);
      expect(byGuid(comSurrogate(403))).toBe(false);
      expect(byGuid(comSurrogate(404))).toBe(false);
      // Not the attacker's: the user's PowerShell, a conhost like the attacker's, another service, Explorer.
      expect(byGuid(guidOf(7005))).toBe(false);
      expect(byGuid(guidOf(7007))).toBe(false);
      expect(byGuid('{00000000-0000-0000-0000-000000000206}')).toBe(false);
      expect(byGuid(explorer[0])).toBe(false);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('takes for a dropped program only what no installer put under Program Files or Windows', () => {
    expect(isDroppedImage('C:\\Users\\nora\\Downloads\\happy_image.jpeg.exe')).toBe(true);
    expect(isDroppedImage('C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe')).toBe(false);
    expect(isDroppedImage('C:\\Windows\\explorer.exe')).toBe(false);
  });
});
