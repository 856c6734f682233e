import { BENCH_MODES, runBench } from '../bench/index.js';
import { formatProgress, formatReport } from '../bench/report.js';
import { DEFAULT_PORT, parseChoice, parseInteger, parsePort, parseSeconds, parseSize } from '../options.js';
import { UsageError } from '../errors.js';
import { parseCommandLine } from './args.js';
import type { Io } from './io.js';

export const BENCH_HELP = `Usage: tcpecho bench [HOST] [PORT] [options]

Drives an echo server (default 127.0.0.1 ${DEFAULT_PORT}) and checks every echoed byte.

Options:
  -m, --mode MODE         pingpong: send a message, wait for its whole echo, repeat (default)
                          stream: write continuously and read back; MiB/s each way
                          connect: connect, send one message, check it, close, repeat
  -c, --connections N     concurrent connections (default 50)
  -s, --size SIZE         message size: 64, 1k, 64KiB, 1MiB (default 1KiB)
  -d, --duration SECS     measured time (default 10)
  -n, --messages N        stop after N messages instead of after --duration
      --warmup SECS       run this long before counting (default 1)
      --pipeline N        ping-pong: messages in flight per connection (default 1)
      --rate N            connect mode: N new connections a second, open loop (at most -c
                          under way); without it each of -c loops reconnects when done
      --timeout SECS      an echo with no progress for this long is an error (default 10)
  -t, --threads N         spread the connections over N threads, each with its own event
                          loop, when one core cannot keep the server busy (default 1)
      --json              print one JSON object with every figure on stdout, nothing else
  -h, --help              show this help
  -V, --version           show the version

Progress is drawn on stderr when it is a terminal. Ctrl-C stops the run and prints the
partial results. Exit codes: 0 no error, 1 any error (mismatch, short echo, reset, timeout,
connect failure, missing FIN) or nothing measured, 2 invalid option.
`;

const OPTIONS = {
  mode: { type: 'string', short: 'm' },
  connections: { type: 'string', short: 'c' },
  size: { type: 'string', short: 's' },
  duration: { type: 'string', short: 'd' },
  messages: { type: 'string', short: 'n' },
  warmup: { type: 'string' },
  pipeline: { type: 'string' },
  rate: { type: 'string' },
  timeout: { type: 'string' },
  threads: { type: 'string', short: 't' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** `tcpecho bench`: resolves with the exit code. */
export async function benchCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 2);
  if (values.help) return io.out(BENCH_HELP), 0;
  if (values.version) return io.out(`${io.version}\n`), 0;
  if (values.duration !== undefined && values.messages !== undefined) {
    throw new UsageError('Give either `--duration` or `--messages`, not both');
  }
  const durationMs = values.duration === undefined ? 10_000 : parseSeconds(values.duration, '--duration');
  if (durationMs === 0) throw new UsageError('Expected `--duration` to be more than 0 seconds');
  const timeoutMs = values.timeout === undefined ? 10_000 : parseSeconds(values.timeout, '--timeout');
  if (timeoutMs === 0) throw new UsageError('Expected `--timeout` to be more than 0 seconds');

  const stop = new AbortController();
  void io.nextStopSignal().then(() => stop.abort());
  const drawProgress = process.stderr.isTTY === true;
  const result = await runBench({
    host: positionals[0] ?? '127.0.0.1',
    port: positionals[1] === undefined ? DEFAULT_PORT : parsePort(positionals[1], 'PORT'),
    mode: values.mode === undefined ? 'pingpong' : parseChoice(values.mode, '--mode', BENCH_MODES),
    connections: values.connections === undefined ? 50 : parseInteger(values.connections, '--connections', 1, 100_000),
    size: values.size === undefined ? 1024 : parseSize(values.size, '--size', 1, 64 * 1024 * 1024),
    durationMs,
    ...(values.messages === undefined ? {} : { messages: parseInteger(values.messages, '--messages', 1, Number.MAX_SAFE_INTEGER) }),
    warmupMs: values.warmup === undefined ? 1000 : parseSeconds(values.warmup, '--warmup'),
    pipeline: values.pipeline === undefined ? 1 : parseInteger(values.pipeline, '--pipeline', 1, 10_000),
    ...(values.rate === undefined ? {} : { rate: parseInteger(values.rate, '--rate', 1, 1_000_000) }),
    timeoutMs,
    threads: values.threads === undefined ? 1 : parseInteger(values.threads, '--threads', 1, 64),
    signal: stop.signal,
    ...(drawProgress ? { onProgress: (p) => process.stderr.write(formatProgress(p.elapsedS, p.messages, p.errors)) } : {}),
  });
  if (drawProgress) process.stderr.write('\n');
  io.out(values.json ? `${JSON.stringify(result)}\n` : formatReport(result));
  return result.errorTotal > 0 || result.messages === 0 ? 1 : 0;
}
