/**
 * Attacker text leaves the analyst only as short quotes: clipped, on one line, with
 * credentials and long base64 blobs masked, so a ticket never carries a secret or a payload.
 */

const secretPatterns: ReadonlyArray<[RegExp, string]> = [
  [/[A-Za-z0-9+/]{40,}={0,2}/g, '<base64>'],
  [
    /\b(password|passwd|pwd|pass|secret|token|api[-_]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi,
    '$1$2<redacted>',
  ],
  [/([-/](?:password|pass|pw|credential|p)[:=])("[^"]*"|'[^']*'|\S+)/gi, '$1<redacted>'],
  [/(\s-(?:password|passw|pass|pwd|pw|p|credential)\s+)("[^"]*"|'[^']*'|\S+)/gi, '$1<redacted>'],
  [/(\/user:\S+\s+)(?!\/)(\S+)/gi, '$1<redacted>'],
  [/(convertto-securestring\s+(?:-string\s+)?)("[^"]*"|'[^']*'|\S+)/gi, '$1<redacted>'],
];

export function clip(text: string, max: number): string {
  const flat = text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** `net user NAME PASSWORD /add`: every operand after the account name is a password. */
function redactNetUser(text: string): string {
  return text.replace(
    /(\bnet1?(?:\.exe)?\s+user\b)([^\n|&;]*)/gi,
    (_match, command: string, rest: string) => {
      let operands = 0;
      const masked = rest.replace(/"[^"]*"|\S+/g, (token) => {
        if (token.startsWith('/')) return token;
        operands += 1;
        return operands > 1 ? '<redacted>' : token;
      });
      return `${command}${masked}`;
    },
  );
}

export function redactSecrets(text: string): string {
  let result = redactNetUser(text);
  for (const [pattern, replacement] of secretPatterns) result = result.replace(pattern, replacement);
  return result;
}

/** A command line as a short, redacted quotation. */
export function quoteCommand(commandLine: string, max = 120): string {
  return `"${clip(redactSecrets(commandLine), max).replace(/"/g, "'")}"`;
}
