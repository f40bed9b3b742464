import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { createIndicatorIndex, loadIndicators, sampleFeedDir } from '../../../src/lab/intel/index.js';

function indexOf(lines: string[], category: string | null = 'malware') {
  const index = createIndicatorIndex();
  const origin = index.origin({ source: 'test', family: 'fam', category, reference: 'https://r.example/1' });
  for (const line of lines) index.add(line, origin);
  return index;
}

describe('indicator index', () => {
  it('matches IPs exactly, by port-stripped entry and inside CIDR ranges, naming the range', () => {
    const index = indexOf(['192.0.2.10', '198.51.100.7:8443', '203.0.113.0/25']);
    expect(index.lookup('192.0.2.10').matches).toMatchObject([{ matched: '192.0.2.10', matchedOn: 'exact' }]);
    expect(index.lookup('198.51.100.7').verdict).toBe('malicious');
    expect(index.lookup('203.0.113.127').matches).toMatchObject([
      { matched: '203.0.113.0/25', matchedOn: 'cidr', family: 'fam', category: 'malware' },
    ]);
    expect(index.lookup('203.0.113.128').verdict).toBe('unknown');
    expect(index.lookup('192.0.2.11').verdict).toBe('unknown');
  });

  it('compares IPv6 addresses in one spelling, also from bracketed address:port trails', () => {
    const index = indexOf(['[2001:41d0:404:200:0:0:0:7f9]:443', '0:0:0:0:0:ffff:2d3e:c649']);
    expect(index.lookup('2001:41D0:404:200::7F9').verdict).toBe('malicious');
    expect(index.lookup('::ffff:2d3e:c649').verdict).toBe('malicious');
    expect(index.lookup('2001:41d0:404:200::7fa').verdict).toBe('unknown');
  });

  it('matches subdomains of listed domains and TLD trails, but not look-alike suffixes', () => {
    const index = indexOf(['evil.example', '.onion']);
    expect(index.lookup('a.b.evil.example').matches).toMatchObject([
      { matched: 'evil.example', matchedOn: 'parent_domain' },
    ]);
    expect(index.lookup('EVIL.example.').matches[0]?.matchedOn).toBe('exact');
    expect(index.lookup('notevil.example').verdict).toBe('unknown');
    expect(index.lookup('evil.example.net').verdict).toBe('unknown');
    expect(index.lookup('abcdef.onion').matches[0]?.matched).toBe('.onion');
  });

  it('matches URLs on the listed URL, a path prefix at a boundary, a host-less path and the host', () => {
    const index = indexOf([
      'http://bad.example/gate.php',
      'cdn.example/panel/',
      '/mstealer/logs/',
      '198.51.100.9',
    ]);
    expect(index.lookup('https://BAD.example/gate.php').matches[0]?.matchedOn).toBe('exact');
    expect(index.lookup('cdn.example/panel/admin?x=1').matches).toMatchObject([
      { matched: 'cdn.example/panel', matchedOn: 'url_prefix' },
    ]);
    expect(index.lookup('cdn.example/panelists').verdict).toBe('unknown');
    expect(index.lookup('http://any.example/mstealer/logs/1.zip').matches[0]?.matchedOn).toBe('url_path');
    expect(index.lookup('http://198.51.100.9:8080/x').matches[0]?.matchedOn).toBe('url_host');
    expect(index.lookup('https://cdn.example/other').verdict).toBe('unknown');
  });

  it('calls a hit suspicious when only suspicious-category feeds list it', () => {
    const index = createIndicatorIndex();
    const suspicious = index.origin({
      source: 't',
      family: 'dynamic_domain',
      category: 'suspicious',
      reference: null,
    });
    const malware = index.origin({ source: 't', family: 'rat', category: 'malware', reference: null });
    index.add('dyn.example', suspicious);
    index.add('bad.dyn.example', malware);
    expect(index.lookup('x.dyn.example').verdict).toBe('suspicious');
    expect(index.lookup('x.bad.dyn.example').verdict).toBe('malicious');
    expect(
      index
        .lookup('x.bad.dyn.example')
        .matches.map((match) => match.family)
        .sort(),
    ).toEqual(['dynamic_domain', 'rat']);
  });

  it('rejects values that do not have the requested type', () => {
    const index = indexOf([]);
    expect(() => index.lookup('evil.example', 'hash')).toThrow(InputError);
    expect(() => index.lookup('   ')).toThrow(InputError);
  });
});

describe('feed loading', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('reads own feeds recursively: file = family, folder = category, sha256sum lines, references', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-feeds-'));
    dirs.push(dir);
    const sha256 = `${'a'.repeat(63)}b`;
    writeFileSync(
      join(dir, 'loader.txt'),
      `# Reference: https://intel.example/loader\n${sha256}  dropper.exe\nD41D8CD98F00B204E9800998ECF8427E\n`,
    );
    const loaded = loadIndicators({ trailDirs: [], feedDirs: [dir, sampleFeedDir] });
    expect(loaded.files).toBeGreaterThan(1);
    expect(loaded.index.lookup(sha256.toUpperCase())).toMatchObject({
      type: 'hash',
      verdict: 'malicious',
      matches: [{ family: 'loader', source: expect.stringMatching(/^feed:warden-feeds-/), category: null }],
    });
    expect(loaded.index.lookup('d41d8cd98f00b204e9800998ecf8427e').matches[0]?.reference).toBe(
      'https://intel.example/loader',
    );
    expect(loaded.index.lookup('203.0.113.47').matches[0]?.source).toBe('sample-lab');
    expect(loaded.index.lookup('b'.repeat(64)).verdict).toBe('unknown');
  });

  it('refuses a configured feed directory that does not exist', () => {
    expect(() => loadIndicators({ trailDirs: ['/nonexistent/trails'], feedDirs: [] })).toThrow(
      /does not exist/,
    );
  });
});
