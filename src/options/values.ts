import { UsageError } from '../errors.js';

/** The port the server listens on and the client connects to when none is given. */
export const DEFAULT_PORT = 7007;

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

/** Parses a whole number within bounds, in plain decimal digits. */
export function parseInteger(value: string, name: string, min: number, max: number): number {
  if (/^\d{1,15}$/.test(value)) {
    const n = Number(value);
    if (n >= min && n <= max) return n;
  }
  throw new UsageError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got \`${value}\``);
}

/** Checks a whole number given through the library API. */
export function checkInteger(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got \`${String(value)}\``);
  }
  return value;
}

/** Parses a non-negative number of seconds (fractions allowed) and returns milliseconds. */
export function parseSeconds(value: string, name: string, max = 86_400): number {
  if (/^\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    if (seconds <= max) return Math.round(seconds * 1000);
  }
  throw new UsageError(`Expected \`${name}\` to be a number of seconds from 0 to ${max}, got \`${value}\``);
}

/** Parses one of a fixed set of words. */
export function parseChoice<T extends string>(value: string, name: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`Expected \`${name}\` to be one of ${choices.map((c) => `\`${c}\``).join(', ')}, got \`${value}\``);
}

/** Checks one of a fixed set of words given through the library API. */
export function checkChoice<T extends string>(value: T, name: string, choices: readonly T[]): T {
  if (choices.includes(value)) return value;
  throw new UsageError(`Expected \`${name}\` to be one of ${choices.map((c) => `\`${c}\``).join(', ')}, got \`${String(value)}\``);
}

/** `HOST:PORT`, with IPv6 hosts in brackets: `[::1]:7007`. */
export function formatAddress(host: string, port: number): string {
  // Only IPv6 literals contain a colon (host names and IPv4 never do); cheaper than net.isIPv6's
  // regular expression on every log line.
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/**
 * Parses a byte size: `64`, `1k`, `64KiB`, `1MiB` (units are binary: k = KiB = 1024). A load
 * generator's users mean 1024 when they write 1k; saying so beats guessing.
 */
export function parseSize(value: string, name: string, min: number, max: number): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match?.[2]?.toLowerCase() ?? '';
  const factor = SIZE_UNITS[unit];
  if (match?.[1] !== undefined && factor !== undefined) {
    const bytes = Number(match[1]) * factor;
    if (bytes >= min && bytes <= max) return bytes;
  }
  throw new UsageError(`Expected \`${name}\` to be a size from ${min} to ${max} bytes (like 64, 1k, 64KiB, 1MiB), got \`${value}\``);
}
