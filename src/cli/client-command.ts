import type net from 'node:net';
import { connectEchoObserved } from '../client/connect.js';
import { interactive } from '../client/interactive.js';
import { dumpedInput, dumpedOutput } from '../client/hexdump-streams.js';
import { pipeThrough } from '../client/pipe.js';
import { HexdumpTap } from '../hexdump.js';
import { formatAddress } from '../options/values.js';
import { parseCommandLine } from '../options/command-line.js';
import { optionsHelp } from '../options/help.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../options/table.js';
import { checkNoTcpTarget, defaultHost, parseFamily, parseTarget } from './address.js';
import type { Io } from './io.js';
import { unixUrl } from '../unix-path.js';

export function clientHelp(): string {
  return `Usage: tcpecho client [HOST] [PORT] [options]
       tcpecho client PORT | HOST:PORT | [IPV6]:PORT [options]
       tcpecho client --unix PATH [options]

Connects to an echo server (default ${DEFAULT_HOST} ${DEFAULT_PORT}, ::1 with -6). A lone number is
the port; IPv6 addresses go in brackets when a port follows: [::1]:7007.

At a terminal: each line you type is sent, and the echo is shown as it arrives.
Ctrl-D or Ctrl-C ends the session.

With stdin from a file or pipe: streams stdin to the server and the echo to stdout, and
checks every echoed byte against what was sent; half-closes at the end of input and exits 0
once every byte is back. The first byte that differs ends it with exit 1, naming its offset.
  cat big.bin | tcpecho client 127.0.0.1 7007 > out.bin

With --udp: a datagram per line at a terminal; from a pipe, stdin in --datagram-size
datagrams, each resent up to --retries times, exit 1 naming how many were lost.

${optionsHelp('client')}
Exit codes: 0 done, 1 connection failed or echo incomplete or different, 2 invalid option.
`;
}

/** `tcpecho client`: resolves with the exit code. */
export async function clientCommand(args: string[], io: Io): Promise<number> {
  const { options, flags, positionals } = parseCommandLine('client', args, 2);
  if (flags.help) return io.out(clientHelp()), 0;
  if (flags.version) return io.out(`${io.version}\n`), 0;

  const unix = options.unix as string | undefined;
  if (unix !== undefined) checkNoTcpTarget(positionals, flags);
  const { host, port } = parseTarget(positionals, { host: defaultHost(flags), port: DEFAULT_PORT });
  const family = parseFamily(flags.ipv4, flags.ipv6, host);
  const timeoutMs = options.timeoutMs as number;
  if (options.udp === true) {
    const { udpClientCommand } = await import('./udp-client.js');
    const datagram = { datagramSize: options.datagramSize as number, retries: options.retries as number, verbose: flags.verbose === true, hexdump: options.hexdump === true };
    return udpClientCommand({ host, port, family, timeoutMs, ...datagram }, io);
  }
  const verbose = flags.verbose === true ? io.log : () => {};

  const target = unix !== undefined ? { unix } : { host, port, ...(family === undefined ? {} : { family }) };
  const socket = await connectEchoObserved({ ...target, timeoutMs }, (s) => {
    s.on('lookup', (err: Error | null, address: string) => {
      if (err === null) verbose(`Resolved ${host} to ${address}`);
    });
  });
  const where = unix !== undefined ? unixUrl(unix) : formatAddress(host, port);
  verbose(unix !== undefined ? `Connected to ${where}` : `Connected to ${peer(socket)} from ${formatAddress(socket.localAddress ?? '?', socket.localPort ?? 0)}`);
  // --hexdump: what is sent and received, on stderr, through streams in front of stdin and stdout.
  const tap = options.hexdump === true ? new HexdumpTap('') : undefined;
  const input = tap === undefined ? process.stdin : dumpedInput(process.stdin, tap);
  const output = tap === undefined ? process.stdout : dumpedOutput(process.stdout, tap);

  if (process.stdin.isTTY) {
    // With -v the connection has been named already, with both ends.
    const connected = flags.verbose === true ? '' : `Connected to ${where}. `;
    io.log(`${connected}Type a line and press Enter; Ctrl-D or Ctrl-C to quit.`);
    const stop = new AbortController();
    void io.nextStopSignal().then(() => stop.abort());
    await interactive(socket, { input, output, log: io.log, signal: stop.signal });
    verbose(`Sent ${socket.bytesWritten} bytes, received ${socket.bytesRead}`);
    return 0;
  }
  const { sent, received } = await pipeThrough(socket, input, output);
  verbose(`Sent ${sent} bytes, received ${received}, every byte as sent`);
  return 0;
}

function peer(socket: net.Socket): string {
  return formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
}
