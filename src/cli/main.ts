#!/usr/bin/env node
// The tcpecho executable: picks the subcommand, maps errors to one line and an exit code.
// The only place that calls process.exit.
import { InheritedSocketError, MergeError, TcpechoError, TlsConfigError, UsageError } from '../errors.js';
import { processIo, type Io } from './io.js';
import { packageVersion } from './version.js';

const HELP = `Usage: tcpecho <command> [options]

Commands:
  server   run an echo server (tcpecho server --help)
  client   connect to an echo server (tcpecho client --help)
  bench    load an echo server and verify every byte (tcpecho bench --help)
           bench merge: several hosts' bench --json results as one (tcpecho bench merge --help)
  ping     probe an echo server as ping does, every byte checked (tcpecho ping --help)

Options:
  -h, --help      show this help
  -V, --version   show the version

Exit codes: 0 success, 1 runtime failure, 2 usage error.
`;

type Command = (args: string[], io: Io) => Promise<number>;

// Loaded on demand: a server should not pay at start-up for the load generator's histogram library.
const COMMANDS: Record<string, () => Promise<Command>> = {
  server: async () => (await import('./server-command.js')).serverCommand,
  client: async () => (await import('./client-command.js')).clientCommand,
  bench: async () => (await import('./bench-command.js')).benchCommand,
  ping: async () => (await import('./ping-command.js')).pingCommand,
};

async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    io.out(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '-V' || name === '--version') {
    io.out(`${io.version}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  const names = Object.keys(COMMANDS).join(', ');
  if (load === undefined && name.startsWith('-')) throw new UsageError(`Expected a command before \`${name}\`: one of ${names} (as in \`tcpecho server ${argv.join(' ')}\`)`);
  if (load === undefined) throw new UsageError(`Unknown command \`${name}\`; expected one of ${names}`);
  try {
    return await (await load())(args, io);
  } catch (err) {
    if (err instanceof UsageError) err.message += ` (see \`tcpecho ${name === 'bench' && args[0] === 'merge' ? 'bench merge' : name} --help\`)`;
    throw err;
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof TlsConfigError || err instanceof InheritedSocketError || err instanceof MergeError) return 2;
  return 1;
}

/** How long the last output may take to reach a slow reader before the process exits anyway. */
const EXIT_FLUSH_MS = 2000;

/**
 * Exits once stdout and stderr have handed their queued output to the OS: to a pipe they are
 * asynchronous, and process.exit() would drop what is still queued (the last log lines, a
 * report). A reader that does not read at all gets EXIT_FLUSH_MS.
 */
function exitAfterFlush(code: number): void {
  const pending = [process.stdout, process.stderr].filter((stream) => stream.writableLength > 0);
  if (pending.length === 0) process.exit(code);
  setTimeout(() => process.exit(code), EXIT_FLUSH_MS).unref();
  let left = pending.length;
  for (const stream of pending) stream.once('drain', () => --left === 0 && process.exit(code));
}

/**
 * `tcpecho server --log-format json`: its errors are JSON lines too, usage errors included, so the
 * flag is looked for in the raw arguments (the parser may be what failed).
 */
function jsonLogs(argv: string[]): boolean {
  if (argv[0] !== 'server') return false;
  return argv.some((arg, i) => arg === '--log-format=json' || (arg === '--log-format' && argv[i + 1] === 'json'));
}

const io = processIo(packageVersion());
const argv = process.argv.slice(2);
main(argv, io).then(exitAfterFlush, (err: unknown) => {
  const message = err instanceof TcpechoError ? err.message : `unexpected error: ${String(err)}`;
  if (jsonLogs(argv)) {
    const code = err instanceof TcpechoError ? err.code : 'TCPECHO_ERR_UNEXPECTED';
    io.log(JSON.stringify({ time: new Date().toISOString(), event: 'error', code, message }));
  } else {
    io.log(`tcpecho: ${message}`);
  }
  if (process.env.DEBUG !== undefined && err instanceof Error) io.log(err.stack ?? '');
  exitAfterFlush(exitCodeFor(err));
});
