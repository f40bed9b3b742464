import { type LabDatabase, rawReaderOf } from '../../lab/store/index.js';
import {
  type AttackerCommand,
  isShell,
  normaliseCommandText,
  programName,
  runsCommand,
  scriptRunsCommand,
  stagedBy,
} from './commands.js';

/** A process start recorded in one dataset (Sysmon 1 with GUIDs, or Security 4688 with PIDs only). */
interface ProcessStart {
  ms: number;
  host: string;
  key: string | null;
  pid: number | null;
  image: string;
  commandLine: string;
  parentKey: string | null;
  parentPid: number | null;
  parentImage: string;
}

/** The attacker's processes of one dataset: by GUID, and by (host, PID) from their start on. */
export interface AttackerProcesses {
  /** Processes whose own command line ran an attacker command (before adding shells and descendants). */
  seeds: number;
  guids: Set<string>;
  /** `host|pid` → start times (ms) of attacker processes with that PID; the latest start before an event decides. */
  pids: Map<string, Array<{ ms: number; malicious: boolean }>>;
  /** Was the event, of this process on this host at this time, the attacker's? */
  isAttacker(reference: { host: string; guid: string | null; pid: number | null; ms: number }): boolean;
}

const pidKey = (host: string, pid: number) => `${host}|${pid}`;

/** Programs that legitimately start a person's console: never taken for an implant. */
const consoleHosts = new Set([
  'explorer',
  'windowsterminal',
  'wt',
  'openconsole',
  'conhost',
  'code',
  'devenv',
]);

/** True for a program outside the Windows folder that is not a terminal: what a C2 implant looks like. */
export function isImplantImage(image: string): boolean {
  const path = normaliseCommandText(image);
  if (path === '' || /^[a-z]:\\windows\\/.test(path)) return false;
  const program = programName(path);
  return !isShell(program) && !consoleHosts.has(program);
}

function toStart(row: Record<string, unknown>): ProcessStart {
  const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    ms: Number(row.ms),
    host: String(row.host_key),
    key: row.process_key === null ? null : String(row.process_key),
    pid: num(row.process_pid),
    image: String(row.process_image ?? ''),
    commandLine: String(row.process_command_line ?? ''),
    parentKey: row.parent_key === null ? null : String(row.parent_key),
    parentPid: num(row.parent_pid),
    parentImage: String(row.parent_image ?? ''),
  };
}

/** PowerShell script blocks and pipeline payloads that carry an attacker command: their process is the attacker's shell. */
async function scriptSeeds(
  database: LabDatabase,
  fileId: number,
  commands: readonly AttackerCommand[],
): Promise<Array<{ host: string; pid: number; ms: number }>> {
  const rows = await database.all(
    `SELECT epoch_ms(ts) AS ms, host_key, file_id, raw_offset, raw_length FROM events
     WHERE file_id = ? AND event_code IN (4103, 4104, 800) ORDER BY seq`,
    [fileId],
  );
  const records = await rawReaderOf(database).read(rows);
  const seeds: Array<{ host: string; pid: number; ms: number }> = [];
  for (const [index, row] of rows.entries()) {
    const raw = JSON.parse(records[index] as string) as Record<string, unknown>;
    const script = String(raw.ScriptBlockText ?? raw.Payload ?? raw.HostApplication ?? '');
    const pid = Number(raw.ExecutionProcessID ?? raw.ProcessID ?? raw.ProcessId ?? Number.NaN);
    if (!Number.isInteger(pid) || pid <= 0 || script === '') continue;
    if (commands.some((command) => scriptRunsCommand(script, command)))
      seeds.push({ host: String(row.host_key), pid, ms: Number(row.ms) });
  }
  return seeds;
}

/**
 * Labels one dataset's processes by lineage: the processes that ran an attacker command (seeds),
 * the shell that started a seed (the attacker's console), and every descendant of either, followed
 * by ParentProcessGuid, or by parent PID on the same host when the start carries no GUID.
 */
export async function attackerProcesses(
  database: LabDatabase,
  fileId: number,
  commands: readonly AttackerCommand[],
): Promise<AttackerProcesses> {
  const starts = (
    await database.all(
      `SELECT epoch_ms(ts) AS ms, host_key, process_key, process_pid, process_image, process_command_line,
         parent_key, parent_pid, parent_image FROM events WHERE file_id = ? AND action = 'process_start' ORDER BY ts, seq`,
      [fileId],
    )
  ).map(toStart);
  const byGuid = new Map(starts.filter((start) => start.key).map((start) => [start.key as string, start]));
  const guids = new Set<string>();
  const pids = new Map<string, Array<{ ms: number; malicious: boolean }>>();
  const pidAt = (host: string, pid: number, ms: number): boolean => {
    const history = pids.get(pidKey(host, pid)) ?? [];
    let latest: { ms: number; malicious: boolean } | undefined;
    for (const entry of history)
      if (entry.ms <= ms + 1000 && (!latest || entry.ms >= latest.ms)) latest = entry;
    return latest?.malicious ?? false;
  };
  const mark = (start: ProcessStart, malicious: boolean) => {
    if (malicious && start.key) guids.add(start.key);
    if (start.pid !== null) {
      const key = pidKey(start.host, start.pid);
      const history = pids.get(key) ?? [];
      // Sysmon and Security both record the same start: an attacker mark wins over a benign one.
      const same = history.find((entry) => Math.abs(entry.ms - start.ms) < 1000);
      if (same) same.malicious ||= malicious;
      else history.push({ ms: start.ms, malicious });
      pids.set(key, history);
    }
  };

  const seeded = new Set<ProcessStart>();
  for (const start of starts)
    if (
      commands.some(
        (command) =>
          runsCommand(start.image, start.commandLine, command) ||
          stagedBy(start.image, start.commandLine, command),
      )
    )
      seeded.add(start);
  const seeds = seeded.size;
  // The console the attacker typed into: the shell that started a seed, even when it started before the recording.
  const consoles: ProcessStart[] = [];
  for (const start of [...seeded]) {
    if (!isShell(programName(normaliseCommandText(start.parentImage)))) continue;
    const parent = start.parentKey ? byGuid.get(start.parentKey) : undefined;
    if (parent) {
      seeded.add(parent);
      consoles.push(parent);
    } else {
      if (start.parentKey) guids.add(start.parentKey);
      if (start.parentPid !== null)
        mark({ ...start, ms: 0, key: start.parentKey, pid: start.parentPid }, true);
    }
  }
  // The implant: a dropped program (outside the Windows folder) that started the attacker's console,
  // as a C2 agent's `shell` does. Its own actions (uploads, process access) are the attacker's too.
  for (const console of consoles) {
    if (!isImplantImage(console.parentImage)) continue;
    const implant = console.parentKey ? byGuid.get(console.parentKey) : undefined;
    if (implant) seeded.add(implant);
    else {
      if (console.parentKey) guids.add(console.parentKey);
      if (console.parentPid !== null)
        mark({ ...console, ms: 0, key: console.parentKey, pid: console.parentPid }, true);
    }
  }
  const shellSeeds = await scriptSeeds(database, fileId, commands);
  for (const seed of shellSeeds) {
    const own = starts.filter(
      (start) => start.host === seed.host && start.pid === seed.pid && start.ms <= seed.ms,
    );
    const latest = own.at(-1);
    if (latest) seeded.add(latest);
    else
      mark(
        {
          ms: 0,
          host: seed.host,
          key: null,
          pid: seed.pid,
          image: '',
          commandLine: '',
          parentKey: null,
          parentPid: null,
          parentImage: '',
        },
        true,
      );
  }

  for (const start of starts) {
    const parentMalicious =
      (start.parentKey !== null && guids.has(start.parentKey)) ||
      (start.parentKey === null && start.parentPid !== null && pidAt(start.host, start.parentPid, start.ms));
    mark(start, seeded.has(start) || parentMalicious);
  }

  return {
    seeds: seeds + shellSeeds.length,
    guids,
    pids,
    isAttacker({ host, guid, pid, ms }) {
      if (guid) return guids.has(guid);
      return pid !== null && pidAt(host, pid, ms);
    },
  };
}
