/**
 * What a Tier-1 analyst knows by heart about Windows process names and paths. General
 * vocabulary only: nothing here names a specific host, sample or file of any dataset.
 */

/** Lower-case file name of an image path (`C:\Windows\System32\MSHTA.EXE` → `mshta.exe`). */
export function imageName(image: string | null | undefined): string {
  if (!image) return '';
  const trimmed = image.trim().replace(/^["']+|["']+$/g, '');
  const parts = trimmed.split(/[\\/]/);
  return (parts[parts.length - 1] ?? '').toLowerCase();
}

/** A command line without its leading executable (quoted or bare): what the process was told. */
export function commandArguments(commandLine: string): string {
  return commandLine.trim().replace(/^(?:"[^"]*"|\S+)\s*/, '');
}

/** Living-off-the-land binaries and the ATT&CK technique their proxy execution maps to. */
export const lolbins: ReadonlyMap<string, string | null> = new Map([
  ['mshta.exe', 'T1218.005'],
  ['rundll32.exe', 'T1218.011'],
  ['regsvr32.exe', 'T1218.010'],
  ['wscript.exe', null],
  ['cscript.exe', null],
  ['certutil.exe', null],
  ['bitsadmin.exe', 'T1197'],
  ['msbuild.exe', 'T1127.001'],
  ['installutil.exe', 'T1218.004'],
  ['regasm.exe', 'T1218.009'],
  ['regsvcs.exe', 'T1218.009'],
  ['cmstp.exe', 'T1218.003'],
  ['msiexec.exe', 'T1218.007'],
  ['hh.exe', 'T1218.001'],
  ['control.exe', 'T1218.002'],
  ['mavinject.exe', 'T1218.013'],
  ['odbcconf.exe', 'T1218.008'],
  ['msxsl.exe', 'T1220'],
  ['wmic.exe', 'T1047'],
  ['forfiles.exe', 'T1202'],
  ['pcalua.exe', 'T1202'],
  ['wuauclt.exe', 'T1218'],
  ['register-cimprovider.exe', 'T1218'],
  ['syncappvpublishingserver.exe', 'T1218'],
  ['infdefaultinstall.exe', 'T1218'],
]);

export const shells: ReadonlyMap<string, string> = new Map([
  ['cmd.exe', 'T1059.003'],
  ['powershell.exe', 'T1059.001'],
  ['pwsh.exe', 'T1059.001'],
  ['powershell_ise.exe', 'T1059.001'],
]);

/** Processes that open attacker-supplied content: documents, mail, web pages. */
export const contentHandlers: ReadonlySet<string> = new Set([
  'winword.exe',
  'excel.exe',
  'powerpnt.exe',
  'outlook.exe',
  'msaccess.exe',
  'mspub.exe',
  'onenote.exe',
  'visio.exe',
  'thunderbird.exe',
  'chrome.exe',
  'firefox.exe',
  'msedge.exe',
  'iexplore.exe',
  'opera.exe',
  'brave.exe',
  'acrord32.exe',
]);

/** Parents through which commands arrive from another machine (WMI, remote services). */
export const remoteExecutionParents: ReadonlySet<string> = new Set(['wmiprvse.exe', 'wsmprovhost.exe']);

/** Server software that should never start a shell (web shells, command injection, xp_cmdshell). */
export const serverProcesses: ReadonlySet<string> = new Set([
  'w3wp.exe',
  'httpd.exe',
  'nginx.exe',
  'tomcat.exe',
  'tomcat9.exe',
  'php-cgi.exe',
  'sqlservr.exe',
  'umworkerprocess.exe',
]);

/** Auto-elevating binaries and COM surrogates abused to bypass UAC when they start a shell. */
export const elevationHosts: ReadonlySet<string> = new Set([
  'dllhost.exe',
  'fodhelper.exe',
  'computerdefaults.exe',
  'sdclt.exe',
  'eventvwr.exe',
  'slui.exe',
  'wsreset.exe',
]);

/** Built-in administration tools: harmless typed by an admin, telling when started remotely. */
export const administrativeTools: ReadonlySet<string> = new Set([
  'net.exe',
  'net1.exe',
  'reg.exe',
  'sc.exe',
  'schtasks.exe',
  'whoami.exe',
  'nltest.exe',
  'netsh.exe',
  'wevtutil.exe',
  'vssadmin.exe',
  'bcdedit.exe',
  'taskkill.exe',
  'at.exe',
  'auditpol.exe',
]);

/** Windows processes that open LSASS as part of normal operation (session, service and security management). */
/**
 * Desktop accessories with no reason to load the PowerShell engine, talk to the network or start
 * programs: doing any of it, they host someone else's code (a classic injection or spawn-to target).
 */
export const inertPrograms: ReadonlySet<string> = new Set([
  'notepad.exe',
  'calc.exe',
  'mspaint.exe',
  'wordpad.exe',
  'write.exe',
  'charmap.exe',
  'snippingtool.exe',
]);

/** Windows components that start threads in other processes as part of their job (console, session, defence). */
export const routineThreadInjectors: ReadonlySet<string> = new Set([
  'csrss.exe',
  'wininit.exe',
  'winlogon.exe',
  'smss.exe',
  'services.exe',
  'lsass.exe',
  'svchost.exe',
  'dwm.exe',
  'msmpeng.exe',
  'mssense.exe',
  'system',
]);

export const lsassAccessors: ReadonlySet<string> = new Set([
  'wininit.exe',
  'csrss.exe',
  'smss.exe',
  'services.exe',
  'svchost.exe',
  'lsm.exe',
  'winlogon.exe',
  'wmiprvse.exe',
  'msmpeng.exe',
  'mssense.exe',
  'lsaiso.exe',
]);

const windowsDirectory = /^"?[a-z]:\\windows\\(?:system32|syswow64)\\/i;

/** True when the image lies in the Windows system directories (System32, SysWOW64). */
export function isSystemDirectoryPath(path: string): boolean {
  return windowsDirectory.test(path.trim());
}

/** Script hosts: their script argument says what they run. */
export const scriptHosts: ReadonlySet<string> = new Set(['cscript.exe', 'wscript.exe']);

/**
 * A script host running a script shipped with Windows (in System32 or SysWOW64) with no further
 * argument: a diagnostic or management script such as the network diagnostics' collection script.
 * OS scripts that proxy execution take an argument (a URL, a `script:` moniker, a command), so any
 * argument beyond the script path keeps the process in the suspicious set.
 */
export function runsOsScript(name: string, commandLine: string): boolean {
  if (!scriptHosts.has(name)) return false;
  const args = commandArguments(commandLine)
    .replace(/(?:^|\s)\/\/\w+(?::\S+)?/g, ' ')
    .trim();
  const script = /^"?([a-z]:\\windows\\(?:system32|syswow64)\\[^"\\]+\.(?:vbs|js|wsf))"?$/i.exec(args);
  return script !== null;
}

/** Parents that mean a person started the process at their desktop. */
export const interactiveParents: ReadonlySet<string> = new Set([
  'explorer.exe',
  'windowsterminal.exe',
  'wt.exe',
]);

/** Core system processes: never a kill target, never a process of interest by name alone. */
export const systemProcesses: ReadonlySet<string> = new Set([
  'system',
  'smss.exe',
  'csrss.exe',
  'wininit.exe',
  'winlogon.exe',
  'services.exe',
  'lsass.exe',
  'svchost.exe',
  'explorer.exe',
  'userinit.exe',
  'dwm.exe',
  'spoolsv.exe',
  'wmiprvse.exe',
  'conhost.exe',
  'taskhostw.exe',
]);

const userWritableDirectory =
  /\\(?:temp|tmp|downloads|desktop|inetcache|content\.outlook|perflogs|\$recycle\.bin)\\|\\appdata\\|\\users\\public\\|\\programdata\\(?!microsoft\\)/i;

/** True when a path lies in a directory an unprivileged user (or a browser/mail client) can write. */
export function isUserWritablePath(path: string): boolean {
  return userWritableDirectory.test(path);
}

/** Executable or script paths mentioned in a command line (quoted or bare). */
export function executablePathsIn(commandLine: string): string[] {
  const pattern =
    /[a-z]:\\[^"'<>|\r\n]*?\.(?:exe|dll|scr|cpl|ps1|psm1|bat|cmd|vbs|vbe|js|jse|wsf|hta|sct|msi|inf|xsl|lnk)\b/gi;
  return [...commandLine.matchAll(pattern)].map((match) => match[0]);
}

export interface DiscoveryCommand {
  name: string;
  technique: string;
  pattern: RegExp;
}

export const discoveryCommands: readonly DiscoveryCommand[] = [
  { name: 'whoami', technique: 'T1033', pattern: /\bwhoami(?:\.exe)?\b/i },
  { name: 'quser', technique: 'T1033', pattern: /\b(?:quser|query\s+user)\b/i },
  { name: 'systeminfo', technique: 'T1082', pattern: /\bsysteminfo(?:\.exe)?\b/i },
  { name: 'nltest', technique: 'T1482', pattern: /\bnltest(?:\.exe)?\b/i },
  { name: 'net user', technique: 'T1087', pattern: /\bnet1?(?:\.exe)?\s+user\b/i },
  { name: 'net group', technique: 'T1069', pattern: /\bnet1?(?:\.exe)?\s+(?:local)?group\b/i },
  { name: 'net view', technique: 'T1018', pattern: /\bnet1?(?:\.exe)?\s+view\b/i },
  { name: 'net share', technique: 'T1135', pattern: /\bnet1?(?:\.exe)?\s+share\b/i },
  { name: 'ipconfig', technique: 'T1016', pattern: /\b(?:ipconfig|arp\s+-a|route\s+print)\b/i },
  { name: 'netstat', technique: 'T1049', pattern: /\bnetstat(?:\.exe)?\b/i },
  { name: 'tasklist', technique: 'T1057', pattern: /\btasklist(?:\.exe)?\b/i },
  { name: 'registry query', technique: 'T1012', pattern: /\breg(?:\.exe)?\s+query\b/i },
  {
    name: 'directory query',
    technique: 'T1087.002',
    pattern: /\b(?:dsquery|adfind|get-ad(?:user|group|computer|domain))\b/i,
  },
];

/** Plain administrative commands a person types at a console. */
export const administrativeCommand =
  /^\s*(?:get|set|restart|start|stop|test|select|where|format|measure|sort|out|write|new-item|copy-item|resolve-dnsname|ipconfig|ping|hostname|sc(?:\.exe)?\s+query|gpupdate|gpresult|net\s+use|dir|type|echo|cd)\b/i;
