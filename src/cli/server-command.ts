import { startEchoServer, SERVER_MODES } from '../server/echo-server.js';
import { DEFAULT_PORT, parseChoice, parseInteger, parsePort, parseSeconds } from '../options.js';
import { parseCommandLine } from './args.js';
import { logConnections, logWarnings } from './server-log.js';
import type { Io } from './io.js';

export const SERVER_HELP = `Usage: tcpecho server [options]

Listens for TCP clients and echoes every byte each one sends back to it.

Options:
  -p, --port PORT           port to listen on, 0 for any free port (default ${DEFAULT_PORT})
  -H, --host HOST           address to listen on (default: every interface, IPv4 and IPv6)
  -m, --mode MODE           event: one event loop serves every client (default)
                            fork: a new child process for every client
      --max-children N      fork mode: most children at once; more clients wait (default 64)
      --drain-timeout SECS  on SIGINT/SIGTERM, how long open connections may finish (default 5)
      --backlog N           length of the kernel's accept queue (default 4096)
  -q, --quiet               no per-connection log lines
  -h, --help                show this help
  -V, --version             show the version

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot listen, 2 invalid option.
`;

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string', short: 'H' },
  mode: { type: 'string', short: 'm' },
  'max-children': { type: 'string' },
  'drain-timeout': { type: 'string' },
  backlog: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** `tcpecho server`: runs until SIGINT or SIGTERM, then drains and resolves with the exit code. */
export async function serverCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS, 0);
  if (values.help) return io.out(SERVER_HELP), 0;
  if (values.version) return io.out(`${io.version}\n`), 0;

  const server = await startEchoServer({
    port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
    ...(values.host === undefined ? {} : { host: values.host }),
    mode: values.mode === undefined ? 'event' : parseChoice(values.mode, '--mode', SERVER_MODES),
    maxChildren: values['max-children'] === undefined ? 64 : parseInteger(values['max-children'], '--max-children', 1, 100_000),
    drainTimeoutMs: values['drain-timeout'] === undefined ? 5000 : parseSeconds(values['drain-timeout'], '--drain-timeout'),
    backlog: values.backlog === undefined ? 4096 : parseInteger(values.backlog, '--backlog', 1, 1_000_000),
  });
  if (!values.quiet) logConnections(server, io.log);
  logWarnings(server, io.log);
  io.log(`tcpecho listening on ${server.url} (mode ${server.mode})`);

  const signal = await io.nextStopSignal();
  // Stop accepting before saying so: whoever reads the line may connect at once.
  const closing = server.close();
  io.log(`received ${signal}: no longer accepting; draining ${server.connections} connection(s) (again to stop now)`);
  void io.nextStopSignal().then(() => server.destroy());
  await closing;
  io.log('stopped');
  return 0;
}
