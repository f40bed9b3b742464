/**
 * Warden's own leak patterns, beside secretlint's recommended preset: what a SOC sees in
 * telemetry and secretlint does not look for (passwords on command lines, bearer headers,
 * private key blocks, payment cards) plus opt-in personal data.
 */

export const clearances = ['public', 'external', 'internal', 'restricted'] as const;
export type Clearance = (typeof clearances)[number];

export function clearanceRank(clearance: Clearance): number {
  return clearances.indexOf(clearance);
}

export interface LeakRule {
  name: string;
  /** The lowest clearance allowed to receive a match. */
  classification: Clearance;
  /** A global regex; the `secret` named group (else the whole match) is what gets redacted. */
  pattern: RegExp;
  /**
   * Extra check on the candidate, e.g. Luhn for card numbers; `line` is the line of text the match
   * sits in, for rules whose pattern alone is ambiguous.
   */
  accept?: (candidate: string, line: string) => boolean;
}

const quoted = String.raw`(?<secret>"[^"\r\n]{1,200}"|'[^'\r\n]{1,200}'|[^\s"'&|;,]{1,200})`;

export function luhnValid(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19 || /^(\d)\1+$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

const accountSwitch = /(?:^|\s)(?:-u|-U|--user(?:name)?|-username|-l|\/u(?:ser)?:)(?:[\s:=]|$)/;
const passwordSwitchTools =
  /\b(?:sshpass|mysql|mysqladmin|mysqldump|psexec(?:64)?|paexec|crackmapexec|nxc|netexec|evil-winrm|xfreerdp|wmiexec(?:\.py)?|smbexec(?:\.py)?)(?:\.exe)?\b/i;
/** Programs whose `-p` is a port, a pid or a flag. */
const nonPasswordSwitchTools =
  /(?:^|[\s\\/"'])(?:ssh|scp|sftp|nc|ncat|netcat|nmap|socat|telnet|mkdir|cp|tar|ps|pgrep|pkill|top|strace|gdb|lsof|docker|kubectl|git|patch|perl|python[\d.]*|netstat)(?:\.exe)?(?=\s)/i;

/**
 * Whether a `-p VALUE` is a password. Never a number or port list, a path or another flag; always
 * beside an account (psexec -u adm -p X, xfreerdp /u:a /p:X) or in a credential tool (sshpass,
 * mysql); not for programs whose -p is a port or a flag (ssh -p 22, mkdir -p); otherwise yes, since
 * a missed password costs more than a redacted word.
 */
export function ambiguousPasswordSwitch(candidate: string, line: string): boolean {
  const value = candidate.replace(/^["']|["']$/g, '');
  if (/^\d+(?:[-,:]\d+)*$/.test(value)) return false;
  if (/^[-/.~\\$%]/.test(value) || /^[a-z]:\\/i.test(value)) return false;
  if (accountSwitch.test(line) || passwordSwitchTools.test(line)) return true;
  return !nonPasswordSwitchTools.test(line);
}

export const builtinLeakRules: readonly LeakRule[] = [
  {
    name: 'private-key',
    classification: 'restricted',
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)/g,
  },
  {
    name: 'bearer-token',
    classification: 'restricted',
    pattern: /\b(?:Bearer|Basic)\s+(?<secret>[A-Za-z0-9\-._~+/]{12,}=*)/g,
  },
  {
    name: 'jwt',
    classification: 'restricted',
    pattern: /\beyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}/g,
  },
  {
    name: 'aws-access-key-id',
    classification: 'restricted',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b/g,
  },
  {
    name: 'aws-secret-access-key',
    classification: 'restricted',
    pattern: /aws_?secret_?(?:access_?)?key\s*["']?\s*[=:]\s*["']?(?<secret>[A-Za-z0-9/+=]{40})/gi,
  },
  {
    name: 'api-token',
    classification: 'restricted',
    pattern:
      /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20})\b/g,
  },
  {
    name: 'password-assignment',
    classification: 'restricted',
    pattern: new RegExp(
      String.raw`\b(?:password|passwd|passwort|pwd|pass|passphrase|secret|client_secret|api[-_]?key|apikey|access[-_]?token|auth[-_]?token|token)\b\s*(?:=|:|\bis\b)\s*${quoted}`,
      'gi',
    ),
  },
  {
    name: 'password-switch',
    classification: 'restricted',
    pattern: new RegExp(
      String.raw`(?:^|\s)(?:--?|/)(?:password|passwd|pass|pwd|pw|credential|secret|token)(?:[:=]|\s+)${quoted}`,
      'gi',
    ),
  },
  {
    // `-p` is a password unless it is a port, a path or a flag (ambiguousPasswordSwitch).
    name: 'password-switch',
    classification: 'restricted',
    pattern: new RegExp(String.raw`(?:^|\s)(?:-|/)p(?:[:=]|\s+)${quoted}`, 'g'),
    accept: ambiguousPasswordSwitch,
  },
  {
    name: 'password-attached-switch',
    classification: 'restricted',
    // mysql -u root -pSecret, sshpass -pSecret
    pattern: /(?:^|\s)-p(?<secret>[^\s"'=:-][^\s"']{3,200})/g,
    accept: ambiguousPasswordSwitch,
  },
  {
    name: 'net-user-password',
    classification: 'restricted',
    pattern: /\bnet1?(?:\.exe)?\s+user\s+(?:"[^"]+"|\S+)\s+(?<secret>(?!\/)(?:"[^"]+"|\S+))/gi,
  },
  {
    // The same account syntax quoted without its `net`: `user NAME PASSWORD /add`.
    name: 'account-password',
    classification: 'restricted',
    pattern:
      /\buser\s+(?:"[^"]+"|[^\s/"]+)\s+(?<secret>(?!\/)(?:"[^"]+"|[^\s"]+))\s+\/(?:add|domain|active|y)\b/gi,
  },
  {
    name: 'securestring-plaintext',
    classification: 'restricted',
    pattern: /ConvertTo-SecureString\s+(?:-String\s+)?(?<secret>"[^"]+"|'[^']+')/gi,
  },
  {
    name: 'connection-string-password',
    classification: 'restricted',
    pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@]{1,100}:(?<secret>[^\s@/]{1,200})@/gi,
  },
  {
    name: 'payment-card',
    classification: 'restricted',
    pattern: /\b(?:\d[ -]?){12,18}\d\b/g,
    accept: luhnValid,
  },
];

/** Opt-in personal data (`dlp.personalData`), redacted at sinks below `internal` clearance. */
export const personalDataRules: Readonly<Record<string, LeakRule>> = {
  email: {
    name: 'email',
    classification: 'internal',
    pattern: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/g,
  },
  'us-ssn': {
    name: 'us-ssn',
    classification: 'internal',
    pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g,
  },
  iban: {
    name: 'iban',
    classification: 'internal',
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
  },
  phone: {
    name: 'phone',
    classification: 'internal',
    pattern: /\+\d{1,3}[ -]?\(?\d{1,4}\)?(?:[ -]?\d{2,4}){2,4}\b/g,
  },
};
