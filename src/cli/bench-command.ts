import { runBench, type BenchOptions } from '../bench/index.js';
import { UsageError } from '../errors.js';
import { formatProgress, formatReport } from '../bench/report.js';
import { parseCommandLine } from '../options/command-line.js';
import { optionsHelp } from '../options/help.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../options/table.js';
import { checkNoTcpTarget, defaultHost, parseFamily, parseTarget } from './address.js';
import type { Io } from './io.js';
import { tlsFromCommandLine } from './tls-options.js';

export function benchHelp(): string {
  return `Usage: tcpecho bench [HOST] [PORT] [options]     (or HOST:PORT, or a lone PORT)
       tcpecho bench --unix PATH [options]
       tcpecho bench merge FILE...                  (--json results of several hosts as one)

Drives an echo server (default ${DEFAULT_HOST} ${DEFAULT_PORT}) and checks every echoed byte.
With --tls every connection speaks TLS (verified as the client does; --ca and --insecure imply
--tls); connect mode then measures full handshakes a second, or resumed ones with --tls-resume.
With --udp, ping-pong datagrams; loss is reported, not an error (a differing byte is).

${optionsHelp('bench')}
Progress is drawn on stderr when it is a terminal. Ctrl-C stops the run and prints the
partial results. Exit codes: 0 no error, 1 any error (mismatch, short echo, reset, timeout,
connect failure, missing FIN) or nothing measured, 2 invalid option.
`;
}

/** `tcpecho bench`: resolves with the exit code. */
export async function benchCommand(args: string[], io: Io): Promise<number> {
  // `merge` only as the first argument: a host named merge is still `tcpecho bench -- merge`.
  if (args[0] === 'merge') return (await import('./bench-merge-command.js')).benchMergeCommand(args.slice(1), io);
  const { options, flags, cliValues, positionals } = parseCommandLine('bench', args, 2);
  if (flags.help) return io.out(benchHelp()), 0;
  if (flags.version) return io.out(`${io.version}\n`), 0;
  if (options.unix !== undefined) checkNoTcpTarget(positionals, flags);
  const target = parseTarget(positionals, { host: defaultHost(flags), port: DEFAULT_PORT });
  const family = parseFamily(flags.ipv4, flags.ipv6, target.host);
  const tls = tlsFromCommandLine(flags, cliValues);
  if (options.tlsResume === true && tls === undefined) throw new UsageError('`--tls-resume` needs `--tls`');

  const stop = new AbortController();
  void io.nextStopSignal().then(() => stop.abort());
  const drawProgress = process.stderr.isTTY === true;
  // The option table has checked every value; its keys are BenchOptions'.
  const result = await runBench({
    ...(options as BenchOptions),
    ...target,
    ...(family === undefined ? {} : { family }),
    ...(tls === undefined ? {} : { tls: tls.options }),
    signal: stop.signal,
    ...(drawProgress ? { onProgress: (p) => process.stderr.write(formatProgress(p.elapsedS, p.messages, p.errors)) } : {}),
  });
  if (drawProgress) process.stderr.write('\n');
  const report = result.udp === undefined ? formatReport : (await import('../bench/udp-report.js')).formatUdpReport;
  io.out(flags.json ? `${JSON.stringify(result)}\n` : report(result));
  return result.errorTotal > 0 || result.messages === 0 ? 1 : 0;
}
