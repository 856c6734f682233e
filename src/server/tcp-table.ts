// The kernel's table of TCP sockets (/proc/net/tcp and tcp6, Linux): the one way to learn that a
// peer has gone without reading its socket, which the fork parent and the cluster primary must
// never do (bytes they read would never reach the process that echoes).
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';

/** The socket's state as the kernel numbers it (include/net/tcp_states.h). */
export const TCP_ESTABLISHED = 0x01;
export const TCP_CLOSE_WAIT = 0x08;

export interface TcpTableEntry {
  state: number;
  /** Bytes received and not read yet; a FIN not yet read counts as one. */
  rxQueue: number;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * The key of one socket as the kernel prints it: `LOCAL:PORT REMOTE:PORT`, each address in hex
 * 32-bit words in the host's byte order. Undefined when an address cannot be parsed.
 */
export function tcpTableKey(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): string | undefined {
  const local = kernelHex(localAddress);
  const remote = kernelHex(remoteAddress);
  if (local === undefined || remote === undefined) return undefined;
  return `${local}:${hexPort(localPort)} ${remote}:${hexPort(remotePort)}`;
}

// `   1: 0100007F:ABCF 0100007F:8910 08 00000000:00000001 ...`: local, remote, state, tx:rx queues.
const LINE = /^\s*\d+: ([0-9A-F]+:[0-9A-F]{4}) ([0-9A-F]+:[0-9A-F]{4}) ([0-9A-F]{2}) [0-9A-F]+:([0-9A-F]+)/gm;

/**
 * The entries of the sockets named in `wanted` (keys from {@link tcpTableKey}) that the kernel
 * lists now; a socket absent from the result is closed (reset, or fully closed). Undefined where
 * there is no /proc/net/tcp to read. Costs one pass over every TCP socket of the network
 * namespace.
 */
export async function readTcpTable(wanted: ReadonlySet<string>): Promise<Map<string, TcpTableEntry> | undefined> {
  const texts = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((path) => readFile(path, 'latin1').catch(() => undefined)));
  if (texts.every((text) => text === undefined)) return undefined;
  const found = new Map<string, TcpTableEntry>();
  for (const text of texts) {
    if (text === undefined) continue;
    for (const match of text.matchAll(LINE)) {
      const key = `${match[1]} ${match[2]}`;
      if (wanted.has(key)) found.set(key, { state: parseInt(match[3] as string, 16), rxQueue: parseInt(match[4] as string, 16) });
    }
  }
  return found;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** An address as /proc/net/tcp prints it: 8 hex digits for IPv4, 32 for IPv6. */
function kernelHex(address: string): string | undefined {
  const bytes = net.isIPv4(address) ? ipv4Bytes(address) : ipv6Bytes(address);
  if (bytes === undefined) return undefined;
  let hex = '';
  for (let word = 0; word < bytes.length; word += 4) {
    const group = bytes.slice(word, word + 4);
    if (LITTLE_ENDIAN) group.reverse();
    for (const byte of group) hex += byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return hex;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function ipv6Bytes(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  if (!net.isIPv6(address)) return undefined;
  const halves = address.split('::');
  const groups = (part: string | undefined): number[] => {
    if (part === undefined || part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = ipv4Bytes(group) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const words = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}
