/**
 * Decoding of encoded runs inside untrusted text (base64, hex, URL escapes). Shared by the
 * injection detector (control) and the compromised test provider (model), which sit side by side.
 */

function printable(text: string): boolean {
  if (text.length === 0) return false;
  let good = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if ((code >= 32 && code < 127) || code === 9 || code === 10 || code === 13) good++;
  }
  return good / text.length > 0.9;
}

/** Decoded forms of encoded runs inside the text (base64 also as UTF-16LE, as PowerShell -enc uses). */
export function decodePayloads(text: string): Array<{ encoding: 'base64' | 'hex' | 'url'; text: string }> {
  const out: Array<{ encoding: 'base64' | 'hex' | 'url'; text: string }> = [];
  for (const match of text.matchAll(/[A-Za-z0-9+/_-]{24,}={0,2}/g)) {
    const buffer = Buffer.from(match[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    const utf8 = buffer.toString('utf8');
    const utf16 = buffer.toString('utf16le');
    if (printable(utf8)) out.push({ encoding: 'base64', text: utf8 });
    else if (printable(utf16)) out.push({ encoding: 'base64', text: utf16 });
  }
  for (const match of text.matchAll(/\b(?:0x)?((?:[0-9a-fA-F]{2}){16,})\b/g)) {
    const decoded = Buffer.from(match[1] ?? '', 'hex').toString('utf8');
    if (printable(decoded)) out.push({ encoding: 'hex', text: decoded });
  }
  if (/%[0-9a-fA-F]{2}/.test(text)) {
    try {
      const decoded = decodeURIComponent(text.replace(/\+/g, ' '));
      if (decoded !== text) out.push({ encoding: 'url', text: decoded });
    } catch {
      // malformed escapes: nothing to decode
    }
  }
  return out;
}
