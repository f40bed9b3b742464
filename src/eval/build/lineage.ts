import { bareGuid } from '../../lab/events.js';
import { type LabDatabase, rawReaderOf } from '../../lab/store/index.js';
import {
  type AttackerCommand,
  commandArguments,
  isShell,
  type ListedImplant,
  normaliseCommandText,
  programName,
  runsCommand,
  scriptRunsCommand,
  stagedBy,
  stagedIn,
} from './commands.js';
import type { ProcessReference } from './reference.js';

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
  isAttacker(reference: ProcessReference): boolean;
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

/** True for a dropped program: an implant-like image that is not under Program Files either (no installed software). */
export function isDroppedImage(image: string): boolean {
  return isImplantImage(image) && !/^[a-z]:\\program files(?: \(x86\))?\\/.test(normaliseCommandText(image));
}

/** Files whose writing stages a later run: programs, libraries and scripts. */
const runnableFile = /\.(?:exe|dll|scr|cpl|ocx|sys|com|bat|cmd|ps1|psm1|vbs|vbe|js|jse|wsf|hta|msi|lnk)$/;

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

/** Text an attacker process left for something else to run later: its arguments, a registry value or a file path it wrote. */
interface StagingText {
  ms: number;
  text: string;
}

/**
 * Labels one dataset's processes by lineage: the processes that ran an attacker command (seeds),
 * the shell that started a seed (the attacker's console), the C2 agents the console listed, and
 * every descendant of these, followed by ParentProcessGuid, or by parent PID on the same host when
 * the start carries no GUID; then, until nothing changes, the processes the attacker's own processes
 * staged (a scheduled-task action or service binPath in their arguments, a Run-key value they wrote,
 * a program, library or script they wrote that something else then ran), the processes they started a
 * remote thread in (injection), the COM servers their activation requests started (an elevated COM
 * object's surrogate, as in UAC bypasses), and their descendants.
 */
export async function attackerProcesses(
  database: LabDatabase,
  fileId: number,
  commands: readonly AttackerCommand[],
  implants: readonly ListedImplant[] = [],
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
    if (implant) {
      seeded.add(implant);
      // The delivery chain: the dropped programs that started the implant (an SFX dropper, a loader).
      let carrier = implant.parentKey ? byGuid.get(implant.parentKey) : undefined;
      for (let depth = 0; carrier && depth < 8 && isDroppedImage(carrier.image); depth++) {
        seeded.add(carrier);
        carrier = carrier.parentKey ? byGuid.get(carrier.parentKey) : undefined;
      }
    } else {
      if (console.parentKey) guids.add(console.parentKey);
      if (console.parentPid !== null)
        mark({ ...console, ms: 0, key: console.parentKey, pid: console.parentPid }, true);
    }
  }
  // A process known only by its PID from `ms` on (it started before the recording, or its start is not recorded).
  const markPid = (host: string, pid: number, ms = 0) =>
    mark(
      {
        ms,
        host,
        key: null,
        pid,
        image: '',
        commandLine: '',
        parentKey: null,
        parentPid: null,
        parentImage: '',
      },
      true,
    );
  const shellSeeds = await scriptSeeds(database, fileId, commands);
  for (const seed of shellSeeds) {
    const own = starts.filter(
      (start) => start.host === seed.host && start.pid === seed.pid && start.ms <= seed.ms,
    );
    const latest = own.at(-1);
    if (latest) seeded.add(latest);
    else markPid(seed.host, seed.pid);
  }
  const listed = await listedImplantSeeds(database, fileId, implants, starts);
  for (const seed of listed) {
    if ('start' in seed) seeded.add(seed.start);
    else if (seed.key) guids.add(seed.key);
    else markPid(seed.host, seed.pid);
  }

  const isAttacker = ({ host, guid, pid, ms }: ProcessReference) =>
    guid ? guids.has(guid) : pid !== null && pidAt(host, pid, ms);
  const referenceOf = (start: ProcessStart): ProcessReference => ({
    host: start.host,
    guid: start.key,
    pid: start.pid,
    ms: start.ms,
  });
  const propagate = () => {
    for (const start of starts) {
      const parentMalicious =
        (start.parentKey !== null && guids.has(start.parentKey)) ||
        (start.parentKey === null &&
          start.parentPid !== null &&
          pidAt(start.host, start.parentPid, start.ms));
      mark(start, seeded.has(start) || parentMalicious);
    }
  };
  propagate();

  const registryValues = await database.all(
    `SELECT epoch_ms(ts) AS ms, host_key, process_key, process_pid, registry_value FROM events
     WHERE file_id = ? AND action = 'registry_set' AND length(registry_value) >= 8`,
    [fileId],
  );
  const writtenFiles = (
    await database.all(
      `SELECT epoch_ms(ts) AS ms, host_key, process_key, process_pid, file_path FROM events
       WHERE file_id = ? AND action = 'file_create' AND file_path IS NOT NULL`,
      [fileId],
    )
  ).filter((row) => runnableFile.test(normaliseCommandText(String(row.file_path))));
  const writerOf = (row: Record<string, unknown>): ProcessReference => ({
    host: String(row.host_key),
    guid: row.process_key === null ? null : String(row.process_key),
    pid: row.process_pid === null ? null : Number(row.process_pid),
    ms: Number(row.ms),
  });
  // Normalised once: each round below only asks again who is the attacker's.
  const registryTexts = registryValues.map((row) => ({
    writer: writerOf(row),
    text: normaliseCommandText(String(row.registry_value)),
  }));
  const fileTexts = writtenFiles.map((row) => ({
    writer: writerOf(row),
    text: normaliseCommandText(String(row.file_path)),
  }));
  const startTexts = new Map(
    starts.map((start) => [
      start,
      {
        image: normaliseCommandText(start.image),
        commandLine: normaliseCommandText(start.commandLine),
        args: normaliseCommandText(commandArguments(start.commandLine)),
      },
    ]),
  );
  const threads = await remoteThreads(database, fileId);
  const activations = await comActivations(database, fileId);
  // The COM server each start is, when it is one: the activation request that its launcher took last before it.
  const activatedBy = new Map<ProcessStart, ProcessReference>();
  for (const start of starts) {
    if (!start.parentKey || !comServer.test(start.commandLine)) continue;
    const request = activations
      .filter((item) => item.launcher === start.parentKey && item.client.ms <= start.ms)
      .at(-1);
    if (request && start.ms - request.client.ms <= comActivationWindowMs)
      activatedBy.set(start, request.client);
  }
  let staged = 0;
  for (let round = 0; round < 8; round++) {
    // A process an attacker process started a thread in (CreateRemoteThread) runs the attacker's code.
    let injected = 0;
    for (const thread of threads) {
      if (guids.has(thread.target) || !isAttacker(thread.source)) continue;
      guids.add(thread.target);
      const start = byGuid.get(thread.target);
      if (start) seeded.add(start);
      injected++;
    }
    const texts: StagingText[] = [];
    for (const start of starts) {
      const args = startTexts.get(start)?.args ?? '';
      if (args.length >= 8 && isAttacker(referenceOf(start))) texts.push({ ms: start.ms, text: args });
    }
    for (const { writer, text } of registryTexts) if (isAttacker(writer)) texts.push({ ms: writer.ms, text });
    // Programs, libraries and scripts an attacker process wrote: whatever later runs or loads them by path.
    const files: StagingText[] = fileTexts
      .filter(({ writer }) => isAttacker(writer))
      .map(({ writer, text }) => ({ ms: writer.ms, text }));
    const runsWritten = (start: ProcessStart) => {
      const own = startTexts.get(start);
      return files.some(
        (file) => file.ms <= start.ms && (own?.image === file.text || own?.commandLine.includes(file.text)),
      );
    };
    // A COM server (an elevated COM object's surrogate) the attacker's own activation request started.
    const isActivatedByAttacker = (start: ProcessStart) => {
      const client = activatedBy.get(start);
      return client !== undefined && isAttacker(client);
    };
    const found = starts.filter(
      (start) =>
        !seeded.has(start) &&
        !isAttacker(referenceOf(start)) &&
        (runsWritten(start) ||
          isActivatedByAttacker(start) ||
          texts.some((text) => text.ms <= start.ms && stagedIn(start.image, start.commandLine, text.text))),
    );
    if (found.length === 0 && injected === 0) break;
    for (const start of found) seeded.add(start);
    staged += found.length + injected;
    propagate();
  }

  return {
    seeds: seeds + shellSeeds.length + listed.length + staged,
    guids,
    pids,
    isAttacker,
  };
}

/** One dataset's Sysmon events of one id (of processes whose image is LIKE `image`), in order, with their raw records. */
async function sysmonRecords(
  database: LabDatabase,
  fileId: number,
  eventCode: number,
  image = '%',
): Promise<Array<{ row: Record<string, unknown>; raw: Record<string, unknown> }>> {
  const rows = await database.all(
    `SELECT epoch_ms(ts) AS ms, host_key, file_id, raw_offset, raw_length FROM events
     WHERE file_id = ? AND event_code = ? AND channel ILIKE '%sysmon%' AND coalesce(process_image, '') ILIKE ?
     ORDER BY ts, seq`,
    [fileId, eventCode, image],
  );
  const records = await rawReaderOf(database).read(rows);
  return rows.map((row, index) => ({
    row,
    raw: JSON.parse(records[index] as string) as Record<string, unknown>,
  }));
}

/** Remote threads (Sysmon 8) of one dataset: who started a thread in which process. */
async function remoteThreads(
  database: LabDatabase,
  fileId: number,
): Promise<Array<{ source: ProcessReference; target: string }>> {
  const threads: Array<{ source: ProcessReference; target: string }> = [];
  for (const { row, raw } of await sysmonRecords(database, fileId, 8)) {
    const target = raw.TargetProcessGuid ?? raw.TargetProcessGUID;
    if (typeof target !== 'string' || target.trim() === '') continue;
    const source = raw.SourceProcessGuid ?? raw.SourceProcessGUID;
    const pid = Number(raw.SourceProcessId ?? Number.NaN);
    threads.push({
      source: {
        host: String(row.host_key),
        guid: typeof source === 'string' && source.trim() !== '' ? bareGuid(source) : null,
        pid: Number.isInteger(pid) ? pid : null,
        ms: Number(row.ms),
      },
      target: bareGuid(target),
    });
  }
  return threads;
}

/** COM servers as their launcher starts them: a surrogate for one class, or a server started `-Embedding`. */
const comServer = /\/processid:\s*\{|(?:^|\s)[-/]embedding\b/i;
/** The longest gap seen between RPCSS opening the client and the server's start is well under this. */
const comActivationWindowMs = 2000;

/**
 * COM activation requests of one dataset: the DCOM launcher (an svchost) opening a client process from
 * RPCSS (Sysmon 10 with rpcss.dll on the call stack), as it does to check the client before starting
 * the COM server it asked for. Its routine opens (process state management) have no rpcss frame.
 */
async function comActivations(
  database: LabDatabase,
  fileId: number,
): Promise<Array<{ launcher: string; client: ProcessReference }>> {
  const activations: Array<{ launcher: string; client: ProcessReference }> = [];
  for (const { row, raw } of await sysmonRecords(database, fileId, 10, '%\\svchost.exe')) {
    if (!/\\rpcss\.dll\+/i.test(String(raw.CallTrace ?? ''))) continue;
    const launcher = raw.SourceProcessGuid ?? raw.SourceProcessGUID;
    const client = raw.TargetProcessGuid ?? raw.TargetProcessGUID;
    if (typeof launcher !== 'string' || typeof client !== 'string' || client.trim() === '') continue;
    const pid = Number(raw.TargetProcessId ?? Number.NaN);
    activations.push({
      launcher: bareGuid(launcher),
      client: {
        host: String(row.host_key),
        guid: bareGuid(client),
        pid: Number.isInteger(pid) ? pid : null,
        ms: Number(row.ms),
      },
    });
  }
  return activations;
}

type ListedSeed = { start: ProcessStart } | { host: string; pid: number; key: string | null };

/**
 * The processes behind the C2 agents the adversary view lists: on the host whose short name is
 * the listed machine, the recorded starts of that program with that PID, or, when none was
 * recorded (the agent started before the recording), the PID itself from the start.
 */
async function listedImplantSeeds(
  database: LabDatabase,
  fileId: number,
  implants: readonly ListedImplant[],
  starts: readonly ProcessStart[],
): Promise<ListedSeed[]> {
  if (implants.length === 0) return [];
  const hosts = (await database.all('SELECT DISTINCT host_key FROM events WHERE file_id = ?', [fileId])).map(
    (row) => String(row.host_key),
  );
  const seeds: ListedSeed[] = [];
  for (const implant of implants) {
    for (const host of hosts) {
      if (host.toLowerCase().split('.')[0] !== implant.machine) continue;
      const own = starts.filter(
        (start) =>
          start.host === host &&
          start.pid === implant.pid &&
          programName(normaliseCommandText(start.image)) === implant.program,
      );
      if (own.length > 0) seeds.push(...own.map((start) => ({ start })));
      else {
        // Started before the recording: known by its PID, and by the GUID its own events carry.
        const keys = await database.all(
          `SELECT DISTINCT process_key, process_image FROM events
           WHERE file_id = ? AND host_key = ? AND process_pid = ? AND process_key IS NOT NULL`,
          [fileId, host, implant.pid],
        );
        for (const row of keys)
          if (programName(normaliseCommandText(String(row.process_image ?? ''))) === implant.program)
            seeds.push({ host, pid: implant.pid, key: String(row.process_key) });
        seeds.push({ host, pid: implant.pid, key: null });
      }
    }
  }
  return seeds;
}
