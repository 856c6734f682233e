import { DatagramsLostError, UsageError } from '../errors.js';
import { udpInteractive } from '../client/udp-interactive.js';
import { udpPipe } from '../client/udp-pipe.js';
import { closeQuietly, MAX_DATAGRAM, openUdpPeer } from '../client/udp-socket.js';
import { DatagramDump } from '../server/udp/datagram-dump.js';
import type { DatagramWatch } from '../client/udp-pipe.js';
import type { Io } from './io.js';

export interface UdpClientSettings {
  host: string;
  port: number;
  family: 4 | 6 | undefined;
  timeoutMs: number;
  datagramSize: number;
  retries: number;
  verbose: boolean;
  hexdump: boolean;
}

/**
 * `tcpecho client --udp`: at a terminal, a datagram per line; from a pipe, stdin in datagrams,
 * the echo to stdout, exit 0 only when every byte came back (else an DatagramsLostError, exit 1).
 */
export async function udpClientCommand(s: UdpClientSettings, io: Io): Promise<number> {
  const verbose = s.verbose ? io.log : () => {};
  const peer = await openUdpPeer(s.host, s.port, s.family);
  try {
    const max = MAX_DATAGRAM[peer.family];
    if (s.datagramSize > max) {
      throw new UsageError(`Expected \`--datagram-size\` to be at most ${max} bytes over IPv${peer.family}, got \`${s.datagramSize}\``);
    }
    const dump = s.hexdump ? new DatagramDump(process.stderr) : undefined;
    const watch: DatagramWatch | undefined = dump && { sent: (b) => dump.sent(peer.where, b), received: (b) => dump.received(peer.where, b) };
    const local = peer.socket.address();
    verbose(`UDP to ${peer.where} from port ${local.port}`);
    if (process.stdin.isTTY) {
      io.log(`UDP to ${peer.where}: each line you type is one datagram; Ctrl-D or Ctrl-C to quit.`);
      const stop = new AbortController();
      void io.nextStopSignal().then(() => stop.abort());
      await udpInteractive(peer.socket, { input: process.stdin, output: process.stdout, log: io.log, timeoutMs: s.timeoutMs, signal: stop.signal, ...(watch ? { watch } : {}) });
      return 0;
    }
    const result = await udpPipe(peer.socket, process.stdin, process.stdout, { datagramSize: s.datagramSize, timeoutMs: s.timeoutMs, retries: s.retries, ...(watch ? { watch } : {}) });
    verbose(`Sent ${result.datagrams} datagram(s), ${result.sent} bytes; ${result.resent} resent, ${result.ignored} echo(es) ignored (duplicates, late or altered)`);
    if (result.lost > 0) throw new DatagramsLostError(result.lost, result.datagrams, result.received, s.retries);
    verbose(`Received ${result.received} bytes, every byte as sent`);
    return 0;
  } finally {
    closeQuietly(peer.socket);
  }
}
