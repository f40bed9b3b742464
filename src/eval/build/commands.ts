/**
 * Matching the attacker's commands (a dataset's `simulation.adversary_view`) to recorded process
 * command lines. Both sides are normalised the same way: lower case, quotes (" ' `) removed,
 * whitespace collapsed. Variable references (`$env:APPDATA`, `$var`, `%TEMP%`, `${x}`) are not
 * expanded, since their values are unknown: they split the command into literal fragments, and a
 * command line matches when it contains those fragments in order.
 */

export interface AttackerCommand {
  /** The line as written in the metadata. */
  text: string;
  /** The line normalised (prompt and C2 wrapper removed). */
  normalised: string;
  /** Program it starts (basename, no `.exe`), or null when the line runs inside a shell (a cmdlet, an assignment). */
  program: string | null;
  /** Literal fragments of the arguments, in order (shorter than 3 characters dropped). */
  argFragments: string[];
  /** Literal fragments of the whole line, for finding it inside a shell's command line or a script block. */
  lineFragments: string[];
}

const promptPrefixes = [
  /^\s*PS\s+[^>]*>\s*/i,
  /^\s*[A-Za-z]:\\[^>]*>\s*/,
  /^\s*(?:└─|╰─)?[#$]\s+/,
  /^\s*(?:meterpreter|msf\d?(?:\s+[^>]*)?)\s*>\s*/i,
  /^\s*\([^)]*\)\s*>\s*/,
];

/**
 * C2 idioms that start a process: Meterpreter `execute -f prog -a 'args'`, Covenant
 * `ShellCmd /shellcommand:"…"`, Empire and Meterpreter `shell <command>`.
 */
function unwrapC2(line: string): string {
  // The program may be quoted, with spaces (`-f 'C:\\Program Files\\tool.exe'`).
  const execute = /^execute\s+(?:-\w+\s+)*-f\s+(?:(['"])(.*?)\1|(\S+))(?:.*?\s-a\s+(['"])(.*)\4)?/i.exec(
    line,
  );
  if (execute) {
    const program = execute[2] !== undefined ? `"${execute[2]}"` : (execute[3] ?? '');
    return `${program} ${execute[5] ?? ''}`.trim();
  }
  const shellCmd = /^shell(?:cmd)?\s+\/shellcommand:\s*"(.*)"\s*$/i.exec(line);
  if (shellCmd) return shellCmd[1] ?? '';
  const shell = /^shell\s+(\S.*)$/i.exec(line);
  if (shell) return shell[1] ?? '';
  return line;
}

const variable = /\$env:[\w()]+|\$\{[^}]*\}|\$[\w:]+|%[\w()]+%/gi;
const minFragment = 3;

export function normaliseCommandText(text: string): string {
  return text
    .toLowerCase()
    .replace(/\\(?=["'])/g, '')
    .replace(/["'`]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function fragments(text: string): string[] {
  return normaliseCommandText(text)
    .split(variable)
    .map((part) => part.trim())
    .filter((part) => part.length >= minFragment);
}

export function programName(token: string): string {
  const base = token.split(/[\\/]/).at(-1) ?? token;
  return base.replace(/\.exe$/, '');
}

/** True when the first word does not start a process of its own (PowerShell syntax, a cmdlet, a prompt's output). */
function isShellSyntax(word: string): boolean {
  return /^[$[({@#|]/.test(word) || word.includes('=') || word.includes('|') || /^[a-z]+-[a-z]+$/.test(word);
}

/** The attacker's command lines, one per non-empty line of `adversary_view`, without shell prompts. */
export function parseAttackerCommands(adversaryView: string): AttackerCommand[] {
  const commands: AttackerCommand[] = [];
  for (const raw of adversaryView.split(/\r?\n/)) {
    let line = raw;
    for (const prefix of promptPrefixes) line = line.replace(prefix, '');
    line = unwrapC2(line.replace(/^\s*&\s*/, '').trim()).trim();
    if (line === '') continue;
    const normalised = normaliseCommandText(line);
    // The first word, or a quoted program path with spaces in it.
    const split = /^(?:"([^"]+)"|'([^']+)'|(\S+))\s*(.*)$/s.exec(line) ?? [];
    const first = normaliseCommandText(split[1] ?? split[2] ?? split[3] ?? '');
    const program = isShellSyntax(first) ? null : programName(first);
    commands.push({
      text: raw.trim(),
      normalised,
      program,
      argFragments: program === null ? [] : fragments(split[4] ?? ''),
      lineFragments: fragments(line),
    });
  }
  return commands;
}

/** True when `fragments` occur in `text` in order. */
export function containsInOrder(text: string, parts: readonly string[]): boolean {
  let from = 0;
  for (const part of parts) {
    const at = text.indexOf(part, from);
    if (at < 0) return false;
    from = at + part.length;
  }
  return true;
}

/** The arguments of a recorded command line: everything after the program (quoted or not). */
export function commandArguments(commandLine: string): string {
  const trimmed = commandLine.trim();
  if (trimmed.startsWith('"')) {
    const end = trimmed.indexOf('"', 1);
    return end < 0 ? '' : trimmed.slice(end + 1);
  }
  const space = trimmed.search(/\s/);
  return space < 0 ? '' : trimmed.slice(space + 1);
}

const shells = new Set(['cmd', 'powershell', 'pwsh', 'powershell_ise']);

export function isShell(program: string): boolean {
  return shells.has(program);
}

/**
 * True when a process with this image and command line ran `command`: the same program with the
 * command's argument fragments in order, or a shell whose command line carries the whole command
 * (`cmd /c …`, `powershell -c …`). A line whose only literal text is short never matches a shell.
 */
export function runsCommand(image: string, commandLine: string, command: AttackerCommand): boolean {
  const program = programName(normaliseCommandText(image));
  const args = normaliseCommandText(commandArguments(commandLine));
  if (command.program !== null && program === command.program && containsInOrder(args, command.argFragments))
    return true;
  if (!isShell(program)) return false;
  const longest = Math.max(0, ...command.lineFragments.map((part) => part.length));
  return longest >= 8 && containsInOrder(args, command.lineFragments);
}

/** True when a PowerShell script block (or pipeline payload) carries the command. */
export function scriptRunsCommand(script: string, command: AttackerCommand): boolean {
  const longest = Math.max(0, ...command.lineFragments.map((part) => part.length));
  return longest >= 8 && containsInOrder(normaliseCommandText(script), command.lineFragments);
}

/**
 * True when the attacker's command staged this process: its program and arguments appear inside an
 * attacker command (a service binPath, a scheduled task action, a Run-key value), so the process that
 * later runs it — started by services.exe, the task scheduler or Explorer — is the attacker's too.
 */
export function stagedBy(image: string, commandLine: string, command: AttackerCommand): boolean {
  return stagedIn(image, commandLine, command.normalised);
}

/**
 * True when `text` (normalised: an attacker command, the arguments of an attacker process, a
 * registry value an attacker process wrote) carries this process's program and its arguments of 8
 * characters or more.
 */
export function stagedIn(image: string, commandLine: string, text: string): boolean {
  const args = normaliseCommandText(commandArguments(commandLine));
  if (args.length < 8) return false;
  const program = programName(normaliseCommandText(image));
  return program !== '' && text.includes(program) && text.includes(args);
}

/** A C2 agent the attacker's console lists: the process the implant lives in, on which machine. */
export interface ListedImplant {
  /** Machine name as the C2 shows it (a short host name). */
  machine: string;
  /** Process name (no `.exe`), lower case. */
  program: string;
  pid: number;
}

// Empire `agents`: Name  La  Internal IP  Machine Name  Username  Process  PID  Delay  Last Seen …
const empireAgentRow =
  /^\s*[A-Z0-9]{8}\s+(?:ps|py|cs)\s+\d{1,3}(?:\.\d{1,3}){3}\s+(\S+)\s+\S+\s+(\S+)\s+(\d+)\s+\d+\/[\d.]+\s/;

/**
 * The implants a C2 console listed in the adversary view (Empire's `agents` table names each
 * agent's machine, process and PID): processes that are the attacker's from the start, whatever
 * started them (an encoded stager, a persistence trigger).
 */
export function parseListedImplants(adversaryView: string): ListedImplant[] {
  const found = new Map<string, ListedImplant>();
  for (const line of adversaryView.split(/\r?\n/)) {
    const row = empireAgentRow.exec(line);
    if (!row) continue;
    const implant = {
      machine: (row[1] ?? '').toLowerCase(),
      program: programName((row[2] ?? '').toLowerCase()),
      pid: Number(row[3]),
    };
    found.set(`${implant.machine}|${implant.pid}|${implant.program}`, implant);
  }
  return [...found.values()];
}
