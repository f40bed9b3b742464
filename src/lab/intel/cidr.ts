import { isIPv4 } from 'node:net';

/** An IPv4 range: the network address as an unsigned 32-bit integer and its prefix length. */
export interface Ipv4Range {
  network: number;
  bits: number;
}

/** `a.b.c.d` → unsigned 32-bit integer; null when not a dotted IPv4 address. */
export function ipv4ToNumber(address: string): number | null {
  if (!isIPv4(address)) return null;
  let value = 0;
  for (const part of address.split('.')) value = value * 256 + Number(part);
  return value;
}

/** Parses `a.b.c.d/nn` (IPv4 CIDR); null for anything else. The address is masked to its network. */
export function parseIpv4Cidr(text: string): Ipv4Range | null {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return null;
  const address = ipv4ToNumber(match[1]);
  const bits = Number(match[2]);
  if (address === null || bits > 32) return null;
  return { network: networkOf(address, bits), bits };
}

/** The first `bits` bits of an address, as an unsigned integer. */
export function networkOf(address: number, bits: number): number {
  // Shifts in JS are 32-bit signed, so compute with division to stay unsigned and handle /0.
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) * size;
}
