import { isIPv4, isIPv6 } from 'node:net';
import { unsupported } from './unsupported.js';

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function ipv6Bytes(address: string): number[] | undefined {
  let text = address.split('%')[0] as string;
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (embedded) {
    tail = ipv4Bytes(embedded[1] as string);
    text = `${text.slice(0, embedded.index)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part ? part.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const head = parse(halves[0] as string);
  const rest = halves.length === 2 ? parse(halves[1] as string) : [];
  const groups =
    halves.length === 2 ? [...head, ...new Array(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (groups.length !== 8 || groups.some((group) => Number.isNaN(group))) return undefined;
  const bytes = groups.flatMap((group) => [group >> 8, group & 0xff]);
  if (embedded) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The address as bytes (4 for IPv4, 16 for IPv6), or undefined when it is not an IP address. */
export function ipBytes(address: string): number[] | undefined {
  const trimmed = address.trim();
  if (isIPv4(trimmed)) return ipv4Bytes(trimmed);
  if (isIPv6(trimmed)) return ipv6Bytes(trimmed);
  return undefined;
}

/** Compiles a `cidr` value (`10.0.0.0/8`, `fe80::/10`) to a test over an address string. */
export function compileCidr(range: string): (address: string) => boolean {
  const [base, bitsText] = range.split('/');
  const network = ipBytes(base ?? '');
  if (!network) return unsupported(`cidr value is not a network: ${range}`);
  const bits = bitsText === undefined ? network.length * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > network.length * 8)
    return unsupported(`cidr prefix length is invalid: ${range}`);
  return (address) => {
    const bytes = ipBytes(address);
    if (!bytes || bytes.length !== network.length) return false;
    for (let bit = 0; bit < bits; bit += 8) {
      const width = Math.min(8, bits - bit);
      const mask = (0xff << (8 - width)) & 0xff;
      const index = bit / 8;
      if (((bytes[index] as number) & mask) !== ((network[index] as number) & mask)) return false;
    }
    return true;
  };
}
