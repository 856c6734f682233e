import { startEchoServer, SERVER_MODES } from '../server/echo-server.js';
import { BALANCES } from '../server/types.js';
import { DEFAULT_PORT, parseChoice, parseInteger, parsePort, parseSeconds } from '../options.js';
import { parseCommandLine } from './args.js';
import { LineBuffer } from './line-buffer.js';
import { logConnections, logWarnings } from './server-log.js';
import type { Io } from './io.js';

export const SERVER_HELP = `Usage: tcpecho server [options]

Listens for TCP clients and echoes every byte each one sends back to it.

Options:
  -p, --port PORT           port to listen on, 0 for any free port (default ${DEFAULT_PORT})
  -H, --host HOST           address to listen on (default: every interface, IPv4 and IPv6)
  -m, --mode MODE           event: one event loop serves every client (default)
                            fork: a new child process for every client
                            cluster: a primary and --workers processes sharing the clients
      --workers N           cluster mode: worker processes (default: the number of CPUs)
      --balance HOW         cluster mode: rr, the primary hands each connection to the next
                            worker (default); shared, workers accept on the shared socket
      --max-children N      fork mode: most children at once, spares included; more clients
                            wait (default 64)
      --spare N             fork mode: children kept started and ready (default 2, 0 for none)
      --max-connections N   event mode: most connections at once; one more is closed at once
                            (default 10000)
      --idle-timeout SECS   close a connection with no traffic either way for SECS (default 0: off)
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
  spare: { type: 'string' },
  workers: { type: 'string' },
  balance: { type: 'string' },
  'drain-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  'idle-timeout': { type: 'string' },
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
    host: values.host ?? '*',
    mode: values.mode === undefined ? 'event' : parseChoice(values.mode, '--mode', SERVER_MODES),
    maxChildren: values['max-children'] === undefined ? 64 : parseInteger(values['max-children'], '--max-children', 1, 100_000),
    ...(values.workers === undefined ? {} : { workers: parseInteger(values.workers, '--workers', 1, 1024) }),
    ...(values.balance === undefined ? {} : { balance: parseChoice(values.balance, '--balance', BALANCES) }),
    spare: values.spare === undefined ? 2 : parseInteger(values.spare, '--spare', 0, 100_000),
    drainTimeoutMs: values['drain-timeout'] === undefined ? 5000 : parseSeconds(values['drain-timeout'], '--drain-timeout'),
    maxConnections: values['max-connections'] === undefined ? 10_000 : parseInteger(values['max-connections'], '--max-connections', 1, 10_000_000),
    idleTimeoutMs: values['idle-timeout'] === undefined ? 0 : parseSeconds(values['idle-timeout'], '--idle-timeout'),
    backlog: values.backlog === undefined ? 4096 : parseInteger(values.backlog, '--backlog', 1, 1_000_000),
  });
  const lines = new LineBuffer(io.logText);
  if (!values.quiet) logConnections(server, lines.line);
  logWarnings(server, lines.line);
  io.log(`tcpecho listening on ${server.url} (mode ${server.mode})`);

  const signal = await io.nextStopSignal();
  // Stop accepting before saying so: whoever reads the line may connect at once.
  const closing = server.close();
  lines.flush();
  io.log(`received ${signal}: no longer accepting; draining ${server.connections} connection(s) (again to stop now)`);
  void io.nextStopSignal().then(() => server.destroy());
  await closing;
  lines.flush();
  io.log('stopped');
  return 0;
}
