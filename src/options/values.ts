import net from 'node:net';
import { UsageError } from '../errors.js';

/**
 * Parses a port strictly. Node's `listen()` silently turns `'8080abc'` or `'-1'` into a Unix
 * socket path and parses `'1e3'` as 1000 and `'0x1B59'` as 7001, so only plain decimal digits
 * are accepted here, before anything reaches `listen()`.
 */
export function parsePort(value: string, name = '--port'): number {
  if (/^\d{1,5}$/.test(value)) {
    const port = Number(value);
    if (port <= 65535) return port;
  }
  throw new UsageError(`Expected \`${name}\` to be an integer from 0 to 65535, got \`${value}\``);
}

/** Checks a port given as a number through the library API. */
export function checkPort(port: number, name = 'port'): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`Expected \`${name}\` to be an integer from 0 to 65535, got \`${String(port)}\``);
  }
  return port;
}

/** Checks a whole number given through the library API. */
export function checkInteger(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got \`${String(value)}\``);
  }
  return value;
}

/** `HOST:PORT`, with IPv6 hosts in brackets: `[::1]:7007`. */
export function formatAddress(host: string, port: number): string {
  // Only IPv6 literals contain a colon (host names and IPv4 never do); cheaper than net.isIPv6's
  // regular expression on every log line.
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The family, checked; an IP literal of the other version is a mistake, not a lookup to fail. */
export function checkFamily(family: number | undefined, host: string): 4 | 6 | undefined {
  if (family === undefined) return undefined;
  if (family !== 4 && family !== 6) throw new UsageError(`Expected \`family\` to be 4 or 6, got \`${String(family)}\``);
  const literal = net.isIP(host);
  if (literal !== 0 && literal !== family) {
    throw new UsageError(`Expected \`host\` to be an IPv${family} address with \`family: ${family}\`, got \`${host}\``);
  }
  return family;
}

/** A network in CIDR notation, parsed: `address` is canonical for its family. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * `127.0.0.0/8`, `::1/128`, or a bare address (`/32`, `/128`). Anything else is a usage error
 * naming the value and what is wrong with it.
 */
export function parseCidr(text: string, name = '--allow'): Cidr {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = net.isIP(address);
  if (version === 0) throw new UsageError(`Expected \`${name}\` to be an address or a network like 127.0.0.0/8 or ::1/128, got \`${text}\``);
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const bits = text.slice(slash + 1);
    prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix <= max)) throw new UsageError(`Expected the prefix length of \`${name} ${text}\` to be from 0 to ${max}, got \`${bits}\``);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
