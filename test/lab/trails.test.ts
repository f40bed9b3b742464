import { describe, expect, it } from 'vitest';
import { inferIndicatorType, normaliseIndicator, parseTrails } from '../../src/lab/index.js';

describe('parseTrails', () => {
  it('reads a maltrail trail file: references apply downwards, the file name is the family', () => {
    const text = [
      '# Copyright (c) someone',
      '# Aliases: Foo',
      '',
      '# Reference: https://r.example/1',
      '',
      'Bad.Example.',
      '192.0.2.10:8080',
      '# Reference: https://r.example/2',
      'http://bad.example/gate.php',
      'bad.example/panel/',
      'D41D8CD98F00B204E9800998ECF8427E',
      '2001:db8::1',
    ].join('\r\n');
    expect(parseTrails(text, 'foo', 'feeds')).toEqual([
      {
        type: 'domain',
        value: 'bad.example',
        family: 'foo',
        source: 'feeds',
        reference: 'https://r.example/1',
      },
      { type: 'ip', value: '192.0.2.10', family: 'foo', source: 'feeds', reference: 'https://r.example/1' },
      {
        type: 'url',
        value: 'bad.example/gate.php',
        family: 'foo',
        source: 'feeds',
        reference: 'https://r.example/2',
      },
      {
        type: 'url',
        value: 'bad.example/panel',
        family: 'foo',
        source: 'feeds',
        reference: 'https://r.example/2',
      },
      {
        type: 'hash',
        value: 'd41d8cd98f00b204e9800998ecf8427e',
        family: 'foo',
        source: 'feeds',
        reference: 'https://r.example/2',
      },
      { type: 'ip', value: '2001:db8::1', family: 'foo', source: 'feeds', reference: 'https://r.example/2' },
    ]);
  });

  it('infers types and refangs defanged indicators', () => {
    expect(inferIndicatorType('198.51.100.4')).toBe('ip');
    expect(inferIndicatorType('hxxp://evil[.]example/x')).toBe('url');
    expect(inferIndicatorType('evil[.]example')).toBe('domain');
    expect(inferIndicatorType('a'.repeat(64))).toBe('hash');
    expect(inferIndicatorType('a'.repeat(63))).toBe('domain');
    expect(normaliseIndicator('hxxps://Evil[.]Example/Path/', 'url')).toBe('evil.example/path');
  });
});
