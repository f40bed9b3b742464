/**
 * Command-line and telemetry patterns, each with the ATT&CK technique it evidences. Matched
 * against the expanded command line (original, decoded payloads, de-obfuscated copies).
 */

export interface Pattern {
  name: string;
  technique: string | null;
  pattern: RegExp;
}

export function matching(patterns: readonly Pattern[], text: string): Pattern[] {
  return patterns.filter((candidate) => candidate.pattern.test(text));
}

export const downloadCradles: readonly Pattern[] = [
  {
    name: 'DownloadString, DownloadFile or DownloadData',
    technique: 'T1105',
    pattern: /\bdownload(?:string|file|data)(?:async)?\b/i,
  },
  { name: 'Net.WebClient', technique: 'T1105', pattern: /\bnet\.webclient\b/i },
  {
    name: 'Invoke-WebRequest or Invoke-RestMethod',
    technique: 'T1105',
    pattern: /\b(?:invoke-webrequest|invoke-restmethod|iwr|irm)\b\s/i,
  },
  { name: 'Start-BitsTransfer', technique: 'T1197', pattern: /\bstart-bitstransfer\b/i },
  {
    name: 'certutil -urlcache',
    technique: 'T1105',
    pattern: /\bcertutil(?:\.exe)?\b.*[-/](?:urlcache|verifyctl)\b/i,
  },
  {
    name: 'bitsadmin /transfer',
    technique: 'T1197',
    pattern: /\bbitsadmin(?:\.exe)?\b.*\/(?:transfer|addfile)\b/i,
  },
  {
    name: 'XMLHTTP or WinHttpRequest',
    technique: 'T1105',
    pattern: /\b(?:msxml2\.(?:server)?xmlhttp|winhttp\.winhttprequest|microsoft\.xmlhttp)\b/i,
  },
  {
    name: 'curl or wget to a URL',
    technique: 'T1105',
    pattern: /\b(?:curl|wget)(?:\.exe)?\s[^\n]*\bhttps?:\/\//i,
  },
];

export const stringExecution: Pattern = {
  name: 'Invoke-Expression (IEX)',
  technique: 'T1059.001',
  pattern: /\b(?:iex|invoke-expression)\b/i,
};

export const stealthFlags: readonly Pattern[] = [
  {
    name: 'hidden window',
    technique: 'T1564.003',
    pattern: /\s[-/]w(?:i(?:n(?:d(?:o(?:w(?:s(?:t(?:y(?:l(?:e)?)?)?)?)?)?)?)?)?)?\s+["']?(?:hidden|h|1)\b/i,
  },
  { name: 'no profile', technique: null, pattern: /\s[-/]nop(?:r(?:o(?:f(?:i(?:l(?:e)?)?)?)?)?)?\b/i },
  {
    name: 'non-interactive',
    technique: null,
    pattern: /\s[-/]noni(?:n(?:t(?:e(?:r(?:a(?:c(?:t(?:i(?:v(?:e)?)?)?)?)?)?)?)?)?)?\b/i,
  },
  {
    name: 'execution policy bypass',
    technique: null,
    pattern: /\s[-/](?:ep|ex(?:ecutionpolicy)?)\s+["']?(?:bypass|unrestricted)\b/i,
  },
];

export const obfuscationPatterns: readonly Pattern[] = [
  { name: 'backtick escapes', technique: 'T1027', pattern: /(?:[a-z]`[a-z][^`]*){2}/i },
  { name: 'split-string concatenation', technique: 'T1027', pattern: /(?:['"]\s*\+\s*['"][^+]*){2}/ },
  { name: 'char-code assembly', technique: 'T1027', pattern: /(?:\[char\]\s*\(?\d+[^[]*){3}/i },
  { name: 'caret escapes', technique: 'T1027', pattern: /(?:\^[a-z][^^]*){3}/i },
  { name: 'environment-variable substrings', technique: 'T1027', pattern: /%[a-z_]+:~-?\d+/i },
  { name: 'XOR decoding', technique: 'T1027', pattern: /-bxor\b/i },
];

export const tamperingPatterns: readonly Pattern[] = [
  {
    name: 'AMSI bypass',
    technique: 'T1562.001',
    pattern: /\b(?:amsiinitfailed|amsiutils|amsiscanbuffer|amsicontext)\b/i,
  },
  {
    name: 'script-block logging disabled',
    technique: 'T1562.001',
    pattern: /\b(?:enable)?scriptblock(?:invocation)?logging\b/i,
  },
  {
    name: 'Defender settings weakened',
    technique: 'T1562.001',
    pattern: /\b(?:set|add)-mppreference\b[^\n]*-(?:disable|exclusion)/i,
  },
  {
    name: 'event log cleared',
    technique: 'T1070.001',
    pattern: /\b(?:wevtutil(?:\.exe)?\s+(?:cl|clear-log)|clear-eventlog|remove-eventlog)\b/i,
  },
  {
    name: 'audit policy changed',
    technique: 'T1562.002',
    pattern: /\bauditpol(?:\.exe)?\b[^\n]*\/(?:clear|remove|set\b[^\n]*disable)/i,
  },
  {
    name: 'firewall changed',
    technique: 'T1562.004',
    pattern:
      /\bnetsh(?:\.exe)?\b[^\n]*(?:firewall|advfirewall)[^\n]*\b(?:off|disable|add\s+(?:rule|allowedprogram|portopening))\b/i,
  },
  {
    name: 'firewall rule deleted',
    technique: 'T1562.004',
    pattern:
      /\bnetsh(?:\.exe)?\b[^\n]*(?:firewall|advfirewall)[^\n]*\bdelete\s+(?:rule|allowedprogram|portopening)\b/i,
  },
  {
    name: 'event logging disabled in the registry',
    technique: 'T1562.002',
    pattern:
      /\\control\\minint\b|\\services\\eventlog\b[^\n]*\bstart\b|processcreationincludecmdline_enabled/i,
  },
  {
    name: 'event log redirected or disabled',
    technique: 'T1562.002',
    pattern:
      /\bwevtutil(?:\.exe)?\s+(?:sl|set-log)\b[^\n]*(?:\/lfn|\/logfilename|\/e:false|\/enabled:false)/i,
  },
  {
    name: 'shadow copies deleted',
    technique: 'T1490',
    pattern: /\b(?:vssadmin(?:\.exe)?\s+delete\s+shadows|shadowcopy\s+delete|recoveryenabled\s+no)\b/i,
  },
  {
    name: 'event logging service stopped',
    technique: 'T1562.002',
    pattern: /\b(?:stop-service|sc(?:\.exe)?\s+(?:stop|config))\b[^\n]*\beventlog\b/i,
  },
];

export const persistencePatterns: readonly Pattern[] = [
  {
    name: 'Run key write',
    technique: 'T1547.001',
    pattern: /\\currentversion\\(?:run|runonce|runservices|policies\\explorer\\run)\b/i,
  },
  { name: 'Startup folder', technique: 'T1547.001', pattern: /\\start menu\\programs\\startup\\/i },
  {
    name: 'scheduled task created',
    technique: 'T1053.005',
    pattern: /\b(?:schtasks(?:\.exe)?\b[^\n]*\/create|register-scheduledtask|new-scheduledtask)\b/i,
  },
  {
    name: 'service created',
    technique: 'T1543.003',
    pattern: /\b(?:sc(?:\.exe)?\s+create|new-service)\b|\\services\\[^\\]+\\(?:imagepath|servicedll)\b/i,
  },
  {
    name: 'service binary path changed',
    technique: 'T1543.003',
    pattern: /\bsc(?:\.exe)?\s+config\b[^\n]*\bbinpath=/i,
  },
  { name: 'Winlogon helper', technique: 'T1547.004', pattern: /\\winlogon\\(?:userinit|shell|notify)\b/i },
  {
    // HKLM\Software\Classes, HKCU\Software\Classes, and the per-user hive HKU\<SID>_Classes.
    name: 'shell open command hijack',
    technique: 'T1548.002',
    pattern:
      /[\\_]classes\\(?:ms-settings|exefile|mscfile|folder|launcher\.systemsettings)\\shell\\open\\command\b/i,
  },
  { name: 'logon script', technique: 'T1037.001', pattern: /\buserinitmprlogonscript\b/i },
  {
    name: 'WMI event subscription',
    technique: 'T1546.003',
    pattern:
      /\b(?:__eventfilter|commandlineeventconsumer|activescripteventconsumer|__filtertoconsumerbinding)\b/i,
  },
  {
    name: 'local account created',
    technique: 'T1136.001',
    pattern: /\bnet1?(?:\.exe)?\s+user\b[^\n]*\/add\b|\bnew-localuser\b/i,
  },
  {
    name: 'account added to a local group',
    technique: 'T1098',
    pattern: /\bnet1?(?:\.exe)?\s+localgroup\b[^\n]*\/add\b|\badd-localgroupmember\b/i,
  },
  {
    name: 'debugger hijack',
    technique: 'T1546.012',
    pattern: /\\image file execution options\\[^\n]*\\debugger\b/i,
  },
];

/** What an autostart entry runs that a legitimate installer's entry rarely does: a shell, a script host, a proxy binary. */
export const autostartPayload =
  /\b(?:powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|msbuild|installutil|certutil|bitsadmin)(?:\.exe)?\b|\s-(?:enc|e|encodedcommand)\s|\.(?:bat|cmd|vbs|js|jse|ps1|hta|sct)\b/i;

export const credentialPatterns: readonly Pattern[] = [
  {
    name: 'LSASS dump tooling',
    technique: 'T1003.001',
    pattern:
      /\b(?:sekurlsa|mimikatz|comsvcs(?:\.dll)?[^\n]*minidump|procdump(?:64)?(?:\.exe)?[^\n]*-ma\b[^\n]*lsass|out-minidump)\b/i,
  },
  {
    name: 'SAM/SECURITY hive export',
    technique: 'T1003.002',
    pattern: /\breg(?:\.exe)?\s+save\s+hklm\\(?:sam|security|system)\b/i,
  },
  { name: 'NTDS copy', technique: 'T1003.003', pattern: /\bntds\.dit\b|\bntdsutil\b[^\n]*\bifm\b/i },
];

/** Proxy execution of remote or inline script through a signed binary, per binary. */
export const proxyExecution: ReadonlyMap<string, readonly Pattern[]> = new Map([
  [
    'mshta.exe',
    [
      {
        name: 'mshta running inline or remote script',
        technique: 'T1218.005',
        pattern: /\b(?:vbscript|javascript|about):|\bhttps?:\/\/|\.hta\b/i,
      },
    ],
  ],
  [
    'rundll32.exe',
    [
      {
        name: 'rundll32 running script or a remote DLL',
        technique: 'T1218.011',
        pattern: /\bjavascript:|\bhttps?:\/\/|\\\\[^\\]+\\|,\s*#\d+/i,
      },
    ],
  ],
  [
    'regsvr32.exe',
    [
      {
        name: 'regsvr32 scriptlet (Squiblydoo)',
        technique: 'T1218.010',
        pattern: /\/i:\s*["']?(?:https?:|\\\\|[^\s]*\.sct)|\bscrobj(?:\.dll)?\b/i,
      },
    ],
  ],
  [
    'wmic.exe',
    [
      {
        name: 'wmic remote or local XSL script',
        technique: 'T1220',
        pattern: /\/format:\s*["']?(?:https?:|[^\s]*\.xsl)/i,
      },
      { name: 'wmic process creation', technique: 'T1047', pattern: /\bprocess\s+call\s+create\b/i },
    ],
  ],
  [
    'wuauclt.exe',
    [{ name: 'wuauclt loading a DLL', technique: 'T1218', pattern: /\/updatedeploymentprovider\b/i }],
  ],
  [
    'msiexec.exe',
    [
      {
        name: 'msiexec installing from a URL',
        technique: 'T1218.007',
        pattern: /\/(?:i|package|y)\s*["']?https?:\/\//i,
      },
    ],
  ],
  [
    'certutil.exe',
    [{ name: 'certutil decoding a payload', technique: 'T1140', pattern: /[-/]decode(?:hex)?\b/i }],
  ],
  [
    'installutil.exe',
    [
      {
        name: 'InstallUtil uninstall-mode bypass',
        technique: 'T1218.004',
        pattern: /\/u\b[^\n]*\.(?:dll|exe)|\/logtoconsole=false/i,
      },
    ],
  ],
  [
    'cmstp.exe',
    [{ name: 'cmstp profile installation', technique: 'T1218.003', pattern: /\/s\b[^\n]*\.inf\b|\/ni\b/i }],
  ],
  [
    'odbcconf.exe',
    [{ name: 'odbcconf DLL registration', technique: 'T1218.008', pattern: /\bregsvr\b|\/a\s*\{/i }],
  ],
  [
    'msbuild.exe',
    [
      {
        name: 'MSBuild inline task project',
        technique: 'T1127.001',
        pattern: /\.(?:xml|csproj|proj|targets)\b/i,
      },
    ],
  ],
]);
