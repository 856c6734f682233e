// Where the client connects, written the ways nc users write it.
import net from 'node:net';
import { UsageError } from '../errors.js';
import { parsePort } from '../options/values.js';
import { DEFAULT_HOST } from '../options/table.js';

export interface Target {
  host: string;
  port: number;
}

/**
 * The host and port from the command line's positionals:
 * - none: `defaults`;
 * - `PORT` (digits only): that port on the default host; a host name is never all digits, and
 *   taking `9000` for one sends the connection off the machine (getaddrinfo reads it as 0.0.35.40);
 * - `HOST PORT`, `HOST:PORT`, `[IPV6]:PORT`, `[IPV6] PORT`;
 * - `HOST` alone, a bare IPv6 address (`::1`) or `[IPV6]` included: the default port.
 * Anything else is a `UsageError`.
 */
export function parseTarget(positionals: readonly string[], defaults: Target): Target {
  const [first, second, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`Unexpected argument \`${extra}\``);
  if (first === undefined) return { ...defaults };
  if (second !== undefined) {
    const host = parseHost(first);
    if (host.port !== undefined) throw new UsageError(`Unexpected argument \`${second}\`: \`${first}\` already names the port`);
    return { host: host.host, port: parsePort(second, 'PORT') };
  }
  if (/^\d+$/.test(first)) return { host: defaults.host, port: parsePort(first, 'PORT') };
  const host = parseHost(first);
  return { host: host.host, port: host.port ?? defaults.port };
}

/** One positional naming a host, perhaps with a port: `h`, `h:p`, `[v6]`, `[v6]:p`, `v6`. */
function parseHost(word: string): { host: string; port?: number } {
  if (word.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::(.*))?$/.exec(word);
    const inside = match?.[1];
    if (inside === undefined || !net.isIPv6(inside)) {
      throw new UsageError(`Expected an IPv6 address in brackets, like \`[::1]\` or \`[::1]:7007\`, got \`${word}\``);
    }
    const port = match?.[2];
    return port === undefined ? { host: inside } : { host: inside, port: parsePort(port, 'PORT') };
  }
  const colons = word.split(':').length - 1;
  if (colons === 1) {
    const [host = '', port = ''] = word.split(':');
    checkHostName(host, word);
    return { host, port: parsePort(port, 'PORT') };
  }
  if (colons > 1) {
    // Only IPv6 has several colons; its port goes after brackets, as in URLs.
    if (!net.isIPv6(word)) throw new UsageError(`Expected \`HOST\` to be a host name or address, got \`${word}\` (an IPv6 address with a port is written \`[ADDRESS]:PORT\`)`);
    return { host: word };
  }
  checkHostName(word, word);
  return { host: word };
}

/** Empty or all digits is no host name, though getaddrinfo would read digits as an IPv4 address. */
function checkHostName(host: string, word: string): void {
  if (host === '') throw new UsageError(`Expected \`HOST\` to be a host name or address, got \`${word}\``);
  if (/^\d+$/.test(host)) {
    throw new UsageError(`Expected \`HOST\` to be a host name or address, got \`${host}\` (a lone number is the port: \`tcpecho client ${host}\`)`);
  }
}

/**
 * The address family from `-4` / `-6`, checked against the host: an IP literal of the other
 * version cannot be reached with that flag, and saying so beats a lookup error.
 */
export function parseFamily(ipv4: boolean | undefined, ipv6: boolean | undefined, host: string): 4 | 6 | undefined {
  if (ipv4 === true && ipv6 === true) throw new UsageError('Expected at most one of `-4` and `-6`, got both');
  const family = ipv4 === true ? 4 : ipv6 === true ? 6 : undefined;
  const literal = net.isIP(host);
  if (family !== undefined && literal !== 0 && literal !== family) {
    throw new UsageError(`Expected an IPv${family} address with \`-${family}\`, got \`${host}\``);
  }
  return family;
}

/** The host to connect to when none is given: loopback, of the family `-4`/`-6` asks for. */
export function defaultHost(flags: { ipv4?: boolean; ipv6?: boolean }): string {
  return flags.ipv6 === true ? '::1' : DEFAULT_HOST;
}

/** `--unix PATH` is where to connect: a HOST or PORT argument, or `-4`/`-6`, as well is a mistake. */
export function checkNoTcpTarget(positionals: readonly string[], flags: { ipv4?: boolean; ipv6?: boolean }): void {
  const tcp = [...positionals.map((word) => `\`${word}\``), ...(flags.ipv4 === true ? ['`-4`'] : []), ...(flags.ipv6 === true ? ['`-6`'] : [])];
  if (tcp.length > 0) throw new UsageError(`Give either \`--unix\` or HOST and PORT, not both (got ${tcp.join(', ')} with \`--unix\`)`);
}
