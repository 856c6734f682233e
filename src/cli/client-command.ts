import type net from 'node:net';
import { connectEchoObserved } from '../client/connect.js';
import { interactive } from '../client/interactive.js';
import { pipeThrough } from '../client/pipe.js';
import { DEFAULT_PORT, formatAddress, parseSeconds } from '../options.js';
import { parseFamily, parseTarget } from './address.js';
import { parseCommandLine } from './args.js';
import type { Io } from './io.js';

export const CLIENT_HELP = `Usage: tcpecho client [HOST] [PORT] [options]
       tcpecho client PORT | HOST:PORT | [IPV6]:PORT [options]

Connects to an echo server (default localhost ${DEFAULT_PORT}). A lone number is the port on
localhost; IPv6 addresses go in brackets when a port follows: [::1]:7007.

At a terminal: each line you type is sent, and the echo is shown as it arrives.
Ctrl-D or Ctrl-C ends the session.

With stdin from a file or pipe: streams stdin to the server and the echo to stdout, and
checks every echoed byte against what was sent; half-closes at the end of input and exits 0
once every byte is back. The first byte that differs ends it with exit 1, naming its offset.
  cat big.bin | tcpecho client 127.0.0.1 7007 > out.bin

Options:
  -w, --timeout SECS   give up when not connected within SECS (default 10)
  -4, --ipv4           use IPv4 addresses only
  -6, --ipv6           use IPv6 addresses only
  -v, --verbose        status lines on stderr: address, connection, bytes sent and received
  -h, --help           show this help
  -V, --version        show the version

Exit codes: 0 done, 1 connection failed or echo incomplete or different, 2 invalid option.
`;

const OPTIONS = {
  timeout: { type: 'string', short: 'w' },
  ipv4: { type: 'boolean', short: '4' },
  ipv6: { type: 'boolean', short: '6' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** `tcpecho client`: resolves with the exit code. */
export async function clientCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 2);
  if (values.help) return io.out(CLIENT_HELP), 0;
  if (values.version) return io.out(`${io.version}\n`), 0;

  const { host, port } = parseTarget(positionals, { host: 'localhost', port: DEFAULT_PORT });
  const family = parseFamily(values.ipv4, values.ipv6, host);
  const timeoutMs = values.timeout === undefined ? 10_000 : Math.max(1, parseSeconds(values.timeout, '--timeout'));
  const verbose = values.verbose === true ? io.log : () => {};

  const socket = await connectEchoObserved({ host, port, timeoutMs, ...(family === undefined ? {} : { family }) }, (s) => {
    s.on('lookup', (err: Error | null, address: string) => {
      if (err === null) verbose(`Resolved ${host} to ${address}`);
    });
  });
  verbose(`Connected to ${peer(socket)} from ${formatAddress(socket.localAddress ?? '?', socket.localPort ?? 0)}`);

  if (process.stdin.isTTY) {
    io.log(`Connected to ${formatAddress(host, port)}. Type a line and press Enter; Ctrl-D or Ctrl-C to quit.`);
    const stop = new AbortController();
    void io.nextStopSignal().then(() => stop.abort());
    await interactive(socket, { input: process.stdin, output: process.stdout, log: io.log, signal: stop.signal });
    verbose(`Sent ${socket.bytesWritten} bytes, received ${socket.bytesRead}`);
    return 0;
  }
  const { sent, received } = await pipeThrough(socket, process.stdin, process.stdout);
  verbose(`Sent ${sent} bytes, received ${received}, every byte as sent`);
  return 0;
}

function peer(socket: net.Socket): string {
  return formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
}
