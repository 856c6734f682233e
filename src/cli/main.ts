#!/usr/bin/env node
// The tcpecho executable: picks the subcommand, maps errors to one line and an exit code.
// The only place that calls process.exit.
import { TcpechoError, UsageError } from '../errors.js';
import { processIo, type Io } from './io.js';
import { packageVersion } from './version.js';

const HELP = `Usage: tcpecho <command> [options]

Commands:
  server   run an echo server (tcpecho server --help)
  client   connect to an echo server (tcpecho client --help)
  bench    load an echo server and verify every byte (tcpecho bench --help)

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
  if (load === undefined) throw new UsageError(`Unknown command \`${name}\`; expected one of ${Object.keys(COMMANDS).join(', ')}`);
  try {
    return await (await load())(args, io);
  } catch (err) {
    if (err instanceof UsageError) err.message += ` (see \`tcpecho ${name} --help\`)`;
    throw err;
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return 2;
  return 1;
}

const io = processIo(packageVersion());
main(process.argv.slice(2), io).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof TcpechoError ? err.message : `unexpected error: ${String(err)}`;
    io.log(`tcpecho: ${message}`);
    if (process.env.DEBUG !== undefined && err instanceof Error) io.log(err.stack ?? '');
    process.exit(exitCodeFor(err));
  },
);
