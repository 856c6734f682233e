import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import { ConnectError, UsageError } from '../errors.js';
import { formatAddress } from '../options/values.js';

/** The largest UDP payload: 65,535 bytes less the IP and UDP headers (IPv6's header is not counted in its length). */
export const MAX_DATAGRAM = { 4: 65_507, 6: 65_527 } as const;

export interface UdpPeer {
  socket: dgram.Socket;
  family: 4 | 6;
  /** `HOST:PORT` of the server, the address it resolved to. */
  where: string;
}

/**
 * A UDP socket connected to `host`:`port`: it receives datagrams from that address and port only,
 * and an ICMP port unreachable comes back as an `ECONNREFUSED` error on it. `host` is looked up
 * (of `family` only, when given) first.
 */
export async function openUdpPeer(host: string, port: number, family: 4 | 6 | undefined): Promise<UdpPeer> {
  let address = host;
  let found: 4 | 6;
  const literal = net.isIP(host);
  if (literal !== 0) {
    found = literal as 4 | 6;
  } else {
    try {
      const result = await dns.lookup(host, family === undefined ? {} : { family });
      address = result.address;
      found = result.family as 4 | 6;
    } catch (err) {
      throw new ConnectError(`Cannot resolve \`${host}\``, { cause: err });
    }
  }
  if (family !== undefined && found !== family) throw new UsageError(`Expected an IPv${family} address with \`-${family}\`, got \`${host}\``);
  const socket = dgram.createSocket(found === 4 ? 'udp4' : 'udp6');
  const where = formatAddress(address, port);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => reject(new ConnectError(`Cannot reach UDP ${where}: ${err.message}`, { cause: err })));
    socket.connect(port, address, () => resolve());
  });
  socket.removeAllListeners('error');
  return { socket, family: found, where };
}

/** The socket closed, safe whatever state it is in. */
export function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // Closed already.
  }
}
