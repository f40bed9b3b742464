import { describe, expect, it } from 'vitest';
import { detection, unsupportedReason } from './helpers.js';

describe('plain values', () => {
  it('matches whole values case-insensitively', () => {
    const matches = detection("selection:\n  Image: 'C:\\Windows\\System32\\cmd.exe'\ncondition: selection");
    expect(matches({ Image: 'c:\\windows\\system32\\CMD.EXE' })).toBe(true);
    expect(matches({ Image: 'C:\\Windows\\System32\\cmd.exe.bak' })).toBe(false);
    expect(matches({})).toBe(false);
  });

  it('compares numbers and strings by their text', () => {
    const matches = detection('selection:\n  EventID: 4688\ncondition: selection');
    expect(matches({ EventID: 4688 })).toBe(true);
    expect(matches({ EventID: '4688' })).toBe(true);
    expect(matches({ EventID: 46880 })).toBe(false);
  });

  it('ORs the values of a list and ANDs the fields of a map', () => {
    const matches = detection(
      "selection:\n  Image|endswith: ['\\cmd.exe', '\\powershell.exe']\n  CommandLine|contains: whoami\ncondition: selection",
    );
    expect(matches({ Image: 'C:\\x\\powershell.exe', CommandLine: 'powershell whoami /all' })).toBe(true);
    expect(matches({ Image: 'C:\\x\\cmd.exe', CommandLine: 'cmd /c dir' })).toBe(false);
    expect(matches({ Image: 'C:\\x\\wscript.exe', CommandLine: 'whoami' })).toBe(false);
  });

  it('treats a list of maps as alternatives', () => {
    const matches = detection(
      'selection:\n  - Image|endswith: \\a.exe\n  - OriginalFileName: b.exe\ncondition: selection',
    );
    expect(matches({ Image: 'C:\\a.exe' })).toBe(true);
    expect(matches({ OriginalFileName: 'B.EXE' })).toBe(true);
    expect(matches({ Image: 'C:\\b.exe' })).toBe(false);
  });

  it('matches null only when the field is absent or null', () => {
    const matches = detection('selection:\n  OriginalFileName: null\ncondition: selection');
    expect(matches({})).toBe(true);
    expect(matches({ OriginalFileName: null })).toBe(true);
    expect(matches({ OriginalFileName: '' })).toBe(false);
    expect(matches({ OriginalFileName: 'a.exe' })).toBe(false);
  });

  it('matches the empty string only against an empty value', () => {
    const matches = detection("selection:\n  Description: ''\ncondition: selection");
    expect(matches({ Description: '' })).toBe(true);
    expect(matches({})).toBe(false);
    expect(matches({ Description: 'x' })).toBe(false);
  });
});

describe('wildcards', () => {
  it('supports * and ? in the middle of a value', () => {
    const matches = detection("selection:\n  CommandLine: 'net* user ?dmin'\ncondition: selection");
    expect(matches({ CommandLine: 'net.exe user admin' })).toBe(true);
    expect(matches({ CommandLine: 'NET USER XDMIN' })).toBe(true);
    expect(matches({ CommandLine: 'net user aadmin' })).toBe(false);
    expect(matches({ CommandLine: 'xnet user admin' })).toBe(false);
  });

  it('reads escaped wildcards and backslashes literally', () => {
    const matches = detection("selection:\n  CommandLine: 'a\\*b\\?c\\\\*'\ncondition: selection");
    expect(matches({ CommandLine: 'a*b?c\\anything' })).toBe(true);
    expect(matches({ CommandLine: 'axb?c\\' })).toBe(false);
    expect(matches({ CommandLine: 'a*bxc\\' })).toBe(false);
  });

  it('keeps a single backslash before an ordinary character', () => {
    const matches = detection("selection:\n  Image: 'C:\\Windows\\note*'\ncondition: selection");
    expect(matches({ Image: 'C:\\Windows\\notepad.exe' })).toBe(true);
    expect(matches({ Image: 'C:Windowsnotepad.exe' })).toBe(false);
    const escapedStar = detection("selection:\n  Image: 'C:\\Windows\\*.exe'\ncondition: selection");
    expect(escapedStar({ Image: 'C:\\Windows*.exe' })).toBe(true);
    expect(escapedStar({ Image: 'C:\\Windows\\notepad.exe' })).toBe(false);
  });
});

describe('string modifiers', () => {
  it('contains, startswith and endswith', () => {
    const contains = detection('selection:\n  CommandLine|contains: Invoke-Mimikatz\ncondition: selection');
    expect(contains({ CommandLine: 'powershell iex; invoke-mimikatz -dump' })).toBe(true);
    expect(contains({ CommandLine: 'powershell Invoke-Mimi' })).toBe(false);
    const starts = detection('selection:\n  Image|startswith: C:\\Users\\\ncondition: selection');
    expect(starts({ Image: 'c:\\users\\bob\\a.exe' })).toBe(true);
    expect(starts({ Image: 'D:\\c:\\users\\' })).toBe(false);
    const ends = detection('selection:\n  Image|endswith: \\rundll32.exe\ncondition: selection');
    expect(ends({ Image: 'C:\\Windows\\System32\\RUNDLL32.EXE' })).toBe(true);
    expect(ends({ Image: 'C:\\rundll32.exe.bak' })).toBe(false);
  });

  it('contains with a long list still finds any literal (grouped matcher)', () => {
    const literals = Array.from({ length: 60 }, (_, index) => `'tool${index}.ps1'`).join(', ');
    const matches = detection(`selection:\n  ContextInfo|contains: [${literals}]\ncondition: selection`);
    expect(matches({ ContextInfo: 'Host Application = powershell TOOL59.PS1 -x' })).toBe(true);
    expect(matches({ ContextInfo: 'Host Application = tool60.ps1' })).toBe(false);
    expect(matches({ ContextInfo: 'tool.ps1' })).toBe(false);
  });

  it('endswith and startswith with long lists', () => {
    const endings = Array.from({ length: 20 }, (_, index) => `'\\\\bin${index}.exe'`).join(', ');
    const matches = detection(`selection:\n  Image|endswith: [${endings}]\ncondition: selection`);
    expect(matches({ Image: 'C:\\x\\BIN19.exe' })).toBe(true);
    expect(matches({ Image: 'C:\\x\\bin20.exe' })).toBe(false);
  });

  it('all requires every value', () => {
    const matches = detection(
      "selection:\n  CommandLine|contains|all: [' -enc ', 'hidden']\ncondition: selection",
    );
    expect(matches({ CommandLine: 'powershell -w hidden -enc AAAA' })).toBe(true);
    expect(matches({ CommandLine: 'powershell -enc AAAA' })).toBe(false);
  });

  it('cased makes the match case-sensitive', () => {
    const matches = detection('selection:\n  CommandLine|cased|contains: IEX\ncondition: selection');
    expect(matches({ CommandLine: 'powershell IEX(x)' })).toBe(true);
    expect(matches({ CommandLine: 'powershell iex(x)' })).toBe(false);
  });

  it('windash accepts -, /, en dash, em dash and horizontal bar for option dashes', () => {
    const matches = detection(
      "selection:\n  CommandLine|windash|contains: ' -urlcache '\ncondition: selection",
    );
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015'])
      expect(matches({ CommandLine: `certutil ${dash}urlcache -f http://x` })).toBe(true);
    expect(matches({ CommandLine: 'certutil +urlcache' })).toBe(false);
    expect(matches({ CommandLine: 'certutil x-urlcache' })).toBe(false);
  });
});

describe('regular expressions', () => {
  it('searches unanchored and case-sensitively by default', () => {
    const matches = detection(
      "selection:\n  CommandLine|re: '\\s-e(nc)?\\s+[A-Za-z0-9+/=]{8,}'\ncondition: selection",
    );
    expect(matches({ CommandLine: 'powershell -enc SQBFAFgAIAAoA' })).toBe(true);
    expect(matches({ CommandLine: 'powershell -ENC SQBFAFgAIAAoA' })).toBe(false);
  });

  it('honours the i, m and s sub-modifiers and a leading (?i)', () => {
    const insensitive = detection(
      "selection:\n  CommandLine|re|i: 'invoke-expression'\ncondition: selection",
    );
    expect(insensitive({ CommandLine: 'INVOKE-EXPRESSION' })).toBe(true);
    const inline = detection("selection:\n  CommandLine|re: '(?i)invoke-expression'\ncondition: selection");
    expect(inline({ CommandLine: 'Invoke-Expression' })).toBe(true);
    const multiline = detection("selection:\n  ScriptBlockText|re|m: '^end$'\ncondition: selection");
    expect(multiline({ ScriptBlockText: 'start\nend\nmore' })).toBe(true);
    const single = detection("selection:\n  ScriptBlockText|re: '^end$'\ncondition: selection");
    expect(single({ ScriptBlockText: 'start\nend\nmore' })).toBe(false);
    const dotAll = detection("selection:\n  ScriptBlockText|re|s: 'a.b'\ncondition: selection");
    expect(dotAll({ ScriptBlockText: 'a\nb' })).toBe(true);
    const noDotAll = detection("selection:\n  ScriptBlockText|re: 'a.b'\ncondition: selection");
    expect(noDotAll({ ScriptBlockText: 'a\nb' })).toBe(false);
  });

  it('translates PCRE-only syntax but leaves escaped backslashes before A and Z alone', () => {
    const path = detection(
      "selection:\n  Image|re|i: '\\\\AppData\\\\Local\\\\Temp\\\\[a-z]+\\.exe$'\ncondition: selection",
    );
    expect(path({ Image: 'C:\\Users\\x\\AppData\\Local\\Temp\\abc.EXE' })).toBe(true);
    expect(path({ Image: 'C:\\Users\\x\\Local\\Temp\\abc.exe' })).toBe(false);
    const anchored = detection("selection:\n  CommandLine|re: '\\Awhoami\\Z'\ncondition: selection");
    expect(anchored({ CommandLine: 'whoami' })).toBe(true);
    expect(anchored({ CommandLine: 'x whoami' })).toBe(false);
    const named = detection("selection:\n  CommandLine|re: '(?P<q>[\"\\x27])x(?P=q)'\ncondition: selection");
    expect(named({ CommandLine: 'a "x" b' })).toBe(true);
    expect(named({ CommandLine: `a "x' b` })).toBe(false);
  });

  it('reports a regex JavaScript cannot compile', () => {
    expect(unsupportedReason("selection:\n  CommandLine|re: '(?<=a'\ncondition: selection")).toMatch(/regex/);
  });
});

describe('encodings', () => {
  const encoded = (text: string, encoding: BufferEncoding = 'utf8') =>
    Buffer.from(text, encoding).toString('base64');

  it('base64 matches the plain encoding', () => {
    const matches = detection('selection:\n  CommandLine|base64|contains: whoami\ncondition: selection');
    expect(matches({ CommandLine: `x ${encoded('whoami')} y` })).toBe(true);
    expect(matches({ CommandLine: encoded('whoam') })).toBe(false);
  });

  it('base64offset matches the value at any offset of a longer encoded text', () => {
    const matches = detection(
      'selection:\n  CommandLine|base64offset|contains: http://\ncondition: selection',
    );
    for (const prefix of ['', 'a', 'ab', 'abc'])
      expect(matches({ CommandLine: `-enc ${encoded(`${prefix}http://evil`)}` })).toBe(true);
    expect(matches({ CommandLine: `-enc ${encoded('https://evil')}` })).toBe(false);
  });

  it('utf16le / wide with base64offset matches PowerShell -EncodedCommand text', () => {
    for (const modifier of ['utf16le', 'wide']) {
      const matches = detection(
        `selection:\n  CommandLine|${modifier}|base64offset|contains: Invoke-\ncondition: selection`,
      );
      for (const prefix of ['', 'x', 'xy'])
        expect(
          matches({ CommandLine: `powershell -e ${encoded(`${prefix}Invoke-Expression`, 'utf16le')}` }),
        ).toBe(true);
      expect(matches({ CommandLine: `powershell -e ${encoded('Invoke-Expression')}` })).toBe(false);
    }
  });

  it('utf16be and utf16 (with byte-order mark) with base64', () => {
    const big = detection('selection:\n  Payload|utf16be|base64: ab\ncondition: selection');
    expect(big({ Payload: Buffer.from([0, 0x61, 0, 0x62]).toString('base64') })).toBe(true);
    expect(big({ Payload: encoded('ab', 'utf16le') })).toBe(false);
    const bom = detection('selection:\n  Payload|utf16|base64: ab\ncondition: selection');
    expect(bom({ Payload: Buffer.from([0xff, 0xfe, 0x61, 0, 0x62, 0]).toString('base64') })).toBe(true);
  });

  it('wide without base64 matches the UTF-16 characters of the value', () => {
    const matches = detection('selection:\n  Data|wide|contains: cmd\ncondition: selection');
    expect(matches({ Data: 'x c\u0000m\u0000d\u0000 y' })).toBe(true);
    expect(matches({ Data: 'cmd' })).toBe(false);
    expect(unsupportedReason('selection:\n  Data|wide: caf\u00e9\ncondition: selection')).toMatch(
      /non-ASCII/,
    );
  });
});

describe('other modifiers', () => {
  it('cidr matches IPv4 and IPv6 networks', () => {
    const matches = detection(
      "selection:\n  DestinationIp|cidr: ['10.0.0.0/8', '192.168.1.0/24', 'fe80::/10']\ncondition: selection",
    );
    expect(matches({ DestinationIp: '10.20.30.40' })).toBe(true);
    expect(matches({ DestinationIp: '192.168.1.77' })).toBe(true);
    expect(matches({ DestinationIp: 'fe80::1c2:3' })).toBe(true);
    expect(matches({ DestinationIp: '192.168.2.1' })).toBe(false);
    expect(matches({ DestinationIp: '11.0.0.1' })).toBe(false);
    expect(matches({ DestinationIp: '2001:db8::1' })).toBe(false);
    expect(matches({ DestinationIp: 'not-an-ip' })).toBe(false);
  });

  it('exists tests presence of the field', () => {
    const present = detection('selection:\n  ParentUser|exists: true\ncondition: selection');
    expect(present({ ParentUser: 'x' })).toBe(true);
    expect(present({})).toBe(false);
    const absent = detection('selection:\n  ParentUser|exists: false\ncondition: selection');
    expect(absent({})).toBe(true);
    expect(absent({ ParentUser: '' })).toBe(false);
  });

  it('lt, lte, gt and gte compare numbers', () => {
    const gt = detection('selection:\n  LogonType|gt: 3\ncondition: selection');
    expect(gt({ LogonType: 10 })).toBe(true);
    expect(gt({ LogonType: '3' })).toBe(false);
    expect(gt({ LogonType: 'abc' })).toBe(false);
    const gte = detection('selection:\n  LogonType|gte: 3\ncondition: selection');
    expect(gte({ LogonType: '3' })).toBe(true);
    const lt = detection('selection:\n  LogonType|lt: 3\ncondition: selection');
    expect(lt({ LogonType: 2 })).toBe(true);
    expect(lt({ LogonType: 3 })).toBe(false);
    expect(lt({ LogonType: '' })).toBe(false);
    const lte = detection('selection:\n  LogonType|lte: 3\ncondition: selection');
    expect(lte({ LogonType: 3 })).toBe(true);
    expect(lte({ LogonType: 4 })).toBe(false);
  });

  it('fieldref compares two fields of the event', () => {
    const matches = detection('selection:\n  User|fieldref: ParentUser\ncondition: selection');
    expect(matches({ User: 'CORP\\Bob', ParentUser: 'corp\\bob' })).toBe(true);
    expect(matches({ User: 'CORP\\Bob', ParentUser: 'CORP\\Alice' })).toBe(false);
    expect(matches({ User: 'CORP\\Bob' })).toBe(false);
    const starts = detection('selection:\n  TargetFilename|fieldref|startswith: Image\ncondition: selection');
    expect(starts({ TargetFilename: 'C:\\a.exe:stream', Image: 'C:\\a.exe' })).toBe(true);
  });

  it('reports unknown modifiers, and expand placeholders without values', () => {
    expect(unsupportedReason('selection:\n  Image|frobnicate: x\ncondition: selection')).toMatch(
      /unknown modifier frobnicate/,
    );
    expect(unsupportedReason("selection:\n  Image|expand: '%admins%'\ncondition: selection")).toMatch(
      /placeholder %admins% has no values/,
    );
  });

  it('neq negates the field test; time parts compare the parsed timestamp', () => {
    const neq = detection('selection:\n  LogonType|neq: 3\n  EventID: 4624\ncondition: selection');
    expect(neq({ EventID: 4624, LogonType: 10 })).toBe(true);
    expect(neq({ EventID: 4624, LogonType: 3 })).toBe(false);
    const hour = detection('selection:\n  UtcTime|hour: [1, 2, 3]\ncondition: selection');
    expect(hour({ UtcTime: '2026-01-02 02:04:05.678' })).toBe(true);
    expect(hour({ UtcTime: '2026-01-02 14:04:05.678' })).toBe(false);
    expect(hour({ UtcTime: 'not a time' })).toBe(false);
    const week = detection(
      'selection:\n  TimeCreated|week: 1\n  TimeCreated|year: 2026\ncondition: selection',
    );
    expect(week({ TimeCreated: '2026-01-02T00:00:00Z' })).toBe(true);
    expect(week({ TimeCreated: '2026-01-12T00:00:00Z' })).toBe(false);
  });

  it('accepts the long names of the regex flags and re with a position modifier', () => {
    const matches = detection(
      "selection:\n  CommandLine|re|ignorecase|contains: 'IEX\\('\ncondition: selection",
    );
    expect(matches({ CommandLine: 'powershell iex(new-object net.webclient)' })).toBe(true);
    expect(matches({ CommandLine: 'powershell iex' })).toBe(false);
  });

  it('reports modifier combinations that would drop a modifier', () => {
    for (const chain of [
      'contains|endswith',
      'cidr|contains',
      'cidr|windash',
      'wide|utf16be',
      'gt|lt',
      'i',
      'base64|base64offset',
    ])
      expect(unsupportedReason(`selection:\n  Image|${chain}: x\ncondition: selection`)).toMatch(
        /conflicting|cannot be combined|only apply to re/,
      );
  });
});

describe('keywords', () => {
  it('finds plain values anywhere in the event', () => {
    const matches = detection("keywords:\n  - 'sekurlsa::'\n  - 'lsadump::'\ncondition: keywords");
    expect(matches({ CommandLine: 'mimikatz.exe "SEKURLSA::logonpasswords"' })).toBe(true);
    expect(matches({ Payload: 'x', ScriptBlockText: 'lsadump::sam' })).toBe(true);
    expect(matches({ CommandLine: 'sekurlsa' })).toBe(false);
  });

  it('supports |all on keywords and numbers as keywords', () => {
    const matches = detection("keywords:\n  '|all':\n    - 'port-control'\n    - 'no '\ncondition: keywords");
    expect(matches({ Message: 'no access-session port-control' })).toBe(true);
    expect(matches({ Message: 'access-session port-control' })).toBe(false);
    const number = detection('keywords:\n  - 4625\ncondition: keywords');
    expect(number({ EventID: 4625 })).toBe(true);
    expect(number({ EventID: 4624 })).toBe(false);
  });

  it('does not match across two field values', () => {
    const matches = detection("keywords:\n  - 'ab'\ncondition: keywords");
    expect(matches({ First: 'xa', Second: 'bx' })).toBe(false);
  });
});

describe('evtx_dump value shapes', () => {
  it('reads { "#text": … } and lists of unnamed Data elements as text', () => {
    const matches = detection(
      "selection:\n  Data|contains: 'HostApplication=powershell -nop'\ncondition: selection",
    );
    expect(
      matches({ Data: { '#text': ['Available', 'None', '\tHostApplication=powershell -nop -w hidden'] } }),
    ).toBe(true);
    expect(matches({ Data: ['Stopped', 'HostApplication=powershell -nop'] })).toBe(true);
    expect(matches({ Data: { '#text': 'HostApplication=cmd' } })).toBe(false);
  });
});

describe('YAML scalars', () => {
  it('keeps unquoted hex and zero-padded numbers as written', () => {
    const matches = detection('selection:\n  GrantedAccess: 0x1010\n  Mode: 0755\ncondition: selection');
    expect(matches({ GrantedAccess: '0x1010', Mode: '0755' })).toBe(true);
    expect(matches({ GrantedAccess: '4112', Mode: '755' })).toBe(false);
  });
});
