import net from 'node:net';

// The PROXY protocol header a balancer sends before the client's bytes, versions 1 (text) and 2
// (binary), per HAProxy's doc/proxy-protocol.txt. A receiver must not process a byte before a
// complete valid header and must abort on a malformed one: the parser accepts exactly the header
// and returns what follows it untouched.

/** v1 is at most 107 bytes, CRLF included. */
export const V1_MAX = 107;
/** The v2 signature: `\r\n\r\n\0\r\nQUIT\n`. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The most v2 address and TLV bytes accepted after the 16-byte fixed part. */
export const V2_MAX_LENGTH = 1024;
const V1_PREFIX = Buffer.from('PROXY ');

/** What a complete header said. */
export interface ProxyHeader {
  version: 1 | 2;
  /** `proxy`: the addresses below are the client's and the one it connected to; `local`: none (a health check, v2 LOCAL or v1 UNKNOWN). */
  command: 'proxy' | 'local';
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  /** v2 TLV 0x01. */
  alpn?: string;
  /** v2 TLV 0x02 (the TLS SNI the balancer saw). */
  authority?: string;
}

export type ProxyParse =
  | { state: 'more' }
  | { state: 'done'; header: ProxyHeader; rest: Buffer }
  | { state: 'error'; what: string };

/**
 * Incremental parser: `push()` each chunk read, in order, until it says `done` (with the bytes
 * after the header in `rest`) or `error`. It holds at most one header's bytes (v1: 107; v2: 16 +
 * `V2_MAX_LENGTH`), so a peer cannot grow it.
 */
export class ProxyHeaderParser {
  #held: Buffer = Buffer.alloc(0);
  #finished = false;

  push(chunk: Buffer): ProxyParse {
    if (this.#finished) return { state: 'error', what: 'parser finished' };
    this.#held = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const result = parse(this.#held);
    if (result.state !== 'more') {
      this.#finished = true;
      this.#held = Buffer.alloc(0);
    }
    return result;
  }
}

/** Parses a header at the start of `data`: `more` while it could still become a valid one. */
export function parse(data: Buffer): ProxyParse {
  if (data.length === 0) return { state: 'more' };
  if (data[0] === 0x0d) return parseV2(data);
  if (data[0] === 0x50) return parseV1(data);
  return { state: 'error', what: 'no header' };
}

function parseV1(data: Buffer): ProxyParse {
  const prefixLength = Math.min(data.length, V1_PREFIX.length);
  if (!data.subarray(0, prefixLength).equals(V1_PREFIX.subarray(0, prefixLength))) return { state: 'error', what: 'no header' };
  const lf = data.indexOf(0x0a);
  if (lf === -1) return data.length >= V1_MAX ? { state: 'error', what: 'v1 line too long' } : { state: 'more' };
  if (lf + 1 > V1_MAX) return { state: 'error', what: 'v1 line too long' };
  if (data[lf - 1] !== 0x0d) return { state: 'error', what: 'v1 line without CRLF' };
  const line = data.toString('latin1', 0, lf - 1);
  const header = v1Fields(line.split(' '));
  if (typeof header === 'string') return { state: 'error', what: header };
  return { state: 'done', header, rest: data.subarray(lf + 1) };
}

function v1Fields(fields: string[]): ProxyHeader | string {
  const family = fields[1];
  // UNKNOWN: whatever follows is to be ignored; the connection is the balancer's own.
  if (family === 'UNKNOWN') return { version: 1, command: 'local' };
  if (family !== 'TCP4' && family !== 'TCP6') return 'v1 bad family';
  if (fields.length !== 6) return 'v1 bad field count';
  const [, , source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string, string];
  const ipFamily = family === 'TCP4' ? 4 : 6;
  if (net.isIP(source) !== ipFamily || net.isIP(destination) !== ipFamily) return 'v1 bad address';
  const remotePort = v1Port(sourcePort);
  const localPort = v1Port(destinationPort);
  if (remotePort === undefined || localPort === undefined) return 'v1 bad port';
  return { version: 1, command: 'proxy', remoteAddress: source, remotePort, localAddress: destination, localPort };
}

function v1Port(text: string): number | undefined {
  // Decimal without leading zeros, 0..65535.
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseV2(data: Buffer): ProxyParse {
  const prefixLength = Math.min(data.length, V2_SIGNATURE.length);
  if (!data.subarray(0, prefixLength).equals(V2_SIGNATURE.subarray(0, prefixLength))) return { state: 'error', what: 'no header' };
  if (data.length < 16) return { state: 'more' };
  const versionCommand = data[12] as number;
  if (versionCommand >> 4 !== 2) return { state: 'error', what: 'v2 bad version' };
  const command = versionCommand & 0x0f;
  if (command > 1) return { state: 'error', what: 'v2 bad command' };
  const length = data.readUInt16BE(14);
  if (length > V2_MAX_LENGTH) return { state: 'error', what: 'v2 length past bound' };
  if (data.length < 16 + length) return { state: 'more' };
  const body = data.subarray(16, 16 + length);
  const rest = data.subarray(16 + length);
  const familyProtocol = data[13] as number;
  const family = familyProtocol >> 4;
  const protocol = familyProtocol & 0x0f;
  if (family > 3 || protocol > 2) return { state: 'error', what: 'v2 bad family' };
  let header: ProxyHeader;
  let tlvStart: number;
  if (command === 0 || family === 0 || family === 3 || protocol !== 1) {
    // LOCAL (health checks), or PROXY for what is not TCP over IP: served as the balancer's own
    // connection, the whole block discarded (the spec: the family of a LOCAL is ignored).
    header = { version: 2, command: 'local' };
    tlvStart = length;
  } else if (family === 1) {
    if (length < 12) return { state: 'error', what: 'v2 truncated addresses' };
    header = {
      version: 2, command: 'proxy',
      remoteAddress: ipv4(body, 0), localAddress: ipv4(body, 4), remotePort: body.readUInt16BE(8), localPort: body.readUInt16BE(10),
    };
    tlvStart = 12;
  } else {
    if (length < 36) return { state: 'error', what: 'v2 truncated addresses' };
    header = {
      version: 2, command: 'proxy',
      remoteAddress: ipv6(body, 0), localAddress: ipv6(body, 16), remotePort: body.readUInt16BE(32), localPort: body.readUInt16BE(34),
    };
    tlvStart = 36;
  }
  const tlvs = readTlvs(body.subarray(tlvStart), header);
  if (tlvs !== undefined) return { state: 'error', what: tlvs };
  return { state: 'done', header, rest };
}

/** Walks the TLVs, keeping ALPN and authority; any other type is skipped. Returns an error text for a TLV past the end. */
function readTlvs(tlvs: Buffer, header: ProxyHeader): string | undefined {
  let at = 0;
  while (at < tlvs.length) {
    if (at + 3 > tlvs.length) return 'v2 truncated TLV';
    const type = tlvs[at] as number;
    const size = tlvs.readUInt16BE(at + 1);
    if (at + 3 + size > tlvs.length) return 'v2 truncated TLV';
    const value = tlvs.subarray(at + 3, at + 3 + size);
    if (type === 0x01) header.alpn = value.toString('latin1');
    else if (type === 0x02) header.authority = value.toString('utf8');
    at += 3 + size;
  }
  return undefined;
}

function ipv4(body: Buffer, at: number): string {
  return `${body[at]}.${body[at + 1]}.${body[at + 2]}.${body[at + 3]}`;
}

function ipv6(body: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(body.readUInt16BE(at + i * 2).toString(16));
  // net.SocketAddress gives the compressed form (`::1`, not `0:0:0:0:0:0:0:1`).
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** A v1 header for `remote` → `local` (what the tests and a client behind no balancer send). */
export function v1Header(remoteAddress: string, remotePort: number, localAddress: string, localPort: number): Buffer {
  const family = net.isIPv6(remoteAddress) ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${family} ${remoteAddress} ${localAddress} ${remotePort} ${localPort}\r\n`, 'latin1');
}

/** A v2 PROXY header (TCP over IPv4 or IPv6) with optional TLVs, or a LOCAL one without addresses. */
export function v2Header(
  addresses: { remoteAddress: string; remotePort: number; localAddress: string; localPort: number } | 'local',
  tlvs: Array<[number, Buffer]> = [],
): Buffer {
  const tlvBytes = Buffer.concat(tlvs.map(([type, value]) => {
    const head = Buffer.alloc(3);
    head[0] = type;
    head.writeUInt16BE(value.length, 1);
    return Buffer.concat([head, value]);
  }));
  let addressBytes = Buffer.alloc(0);
  let familyProtocol = 0x00;
  if (addresses !== 'local') {
    const six = net.isIPv6(addresses.remoteAddress);
    familyProtocol = six ? 0x21 : 0x11;
    addressBytes = Buffer.alloc(six ? 36 : 12);
    const size = six ? 16 : 4;
    writeIp(addressBytes, 0, addresses.remoteAddress);
    writeIp(addressBytes, size, addresses.localAddress);
    addressBytes.writeUInt16BE(addresses.remotePort, size * 2);
    addressBytes.writeUInt16BE(addresses.localPort, size * 2 + 2);
  }
  const fixed = Buffer.alloc(16);
  V2_SIGNATURE.copy(fixed);
  fixed[12] = addresses === 'local' ? 0x20 : 0x21;
  fixed[13] = familyProtocol;
  fixed.writeUInt16BE(addressBytes.length + tlvBytes.length, 14);
  return Buffer.concat([fixed, addressBytes, tlvBytes]);
}

function writeIp(target: Buffer, at: number, address: string): void {
  if (net.isIPv4(address)) {
    address.split('.').forEach((part, i) => (target[at + i] = Number(part)));
    return;
  }
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((group, i) => target.writeUInt16BE(parseInt(group, 16), at + i * 2));
}
