import { connectEcho } from '../client/connect.js';
import { interactive } from '../client/interactive.js';
import { pipeThrough } from '../client/pipe.js';
import { DEFAULT_PORT, formatAddress, parsePort, parseSeconds } from '../options/values.js';
import { parseCommandLine } from './args.js';
import type { Io } from './io.js';

export const CLIENT_HELP = `Usage: tcpecho client [HOST] [PORT] [options]

Connects to an echo server (default localhost ${DEFAULT_PORT}).

At a terminal: each line you type is sent, and the echo is shown as it arrives.
Ctrl-D or Ctrl-C ends the session.

With stdin from a file or pipe: streams stdin to the server and the echo to stdout,
byte for byte; half-closes at the end of input and exits 0 once every byte is back.
  cat big.bin | tcpecho client 127.0.0.1 7007 > out.bin

Options:
  -t, --timeout SECS   give up when not connected within SECS (default 10)
  -h, --help           show this help
  -V, --version        show the version

Exit codes: 0 done, 1 connection failed or echo incomplete, 2 invalid option.
`;

const OPTIONS = {
  timeout: { type: 'string', short: 't' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** `tcpecho client`: resolves with the exit code. */
export async function clientCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 2);
  if (values.help) return io.out(CLIENT_HELP), 0;
  if (values.version) return io.out(`${io.version}\n`), 0;

  const host = positionals[0] ?? 'localhost';
  const port = positionals[1] === undefined ? DEFAULT_PORT : parsePort(positionals[1], 'PORT');
  const connectTimeoutMs = values.timeout === undefined ? 10_000 : parseSeconds(values.timeout, '--timeout');
  const socket = await connectEcho({ host, port, connectTimeoutMs: Math.max(1, connectTimeoutMs) });
  const where = formatAddress(host, port);

  if (process.stdin.isTTY) {
    io.log(`Connected to ${where}. Type a line and press Enter; Ctrl-D or Ctrl-C to quit.`);
    const stop = new AbortController();
    void io.nextStopSignal().then(() => stop.abort());
    await interactive(socket, { input: process.stdin, output: process.stdout, log: io.log, signal: stop.signal });
    return 0;
  }
  await pipeThrough(socket, process.stdin, process.stdout);
  return 0;
}
