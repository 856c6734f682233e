import { ping } from '../ping/ping.js';
import type { PingResult, ProbeResult, TimeStats } from '../ping/types.js';
import { PROBE_FAILURES } from '../ping/types.js';
import { parseCommandLine } from '../options/command-line.js';
import { optionsHelp } from '../options/help.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../options/table.js';
import { checkNoTcpTarget, defaultHost, parseFamily, parseTarget } from './address.js';
import type { Io } from './io.js';
import { tlsFromCommandLine } from './tls-options.js';

export function pingHelp(): string {
  return `Usage: tcpecho ping [HOST] [PORT] [options]     (or HOST:PORT, or a lone PORT)
       tcpecho ping --unix PATH [options]

Probes an echo server (default ${DEFAULT_HOST} ${DEFAULT_PORT}) as ping does: every -i seconds a new
connection, -s bytes sent, the echo checked byte for byte, connect and echo times on one line.
With --tls the connection speaks TLS (verified as the client does) and the line has its version
and handshake time; with --udp each probe is one datagram. Ctrl-C (or -c N probes) ends it with
a summary.

${optionsHelp('ping')}
Exit codes: 0 at least one probe echoed and none mismatched, 1 none echoed or any mismatch
(or the host cannot be resolved), 2 invalid option.
`;
}

/** `tcpecho ping`: resolves with the exit code. */
export async function pingCommand(args: string[], io: Io): Promise<number> {
  const { options, flags, cliValues, positionals } = parseCommandLine('ping', args, 2);
  if (flags.help) return io.out(pingHelp()), 0;
  if (flags.version) return io.out(`${io.version}\n`), 0;
  const unix = options.unix as string | undefined;
  if (unix !== undefined) checkNoTcpTarget(positionals, flags);
  const { host, port } = parseTarget(unix === undefined ? positionals : [], { host: defaultHost(flags), port: DEFAULT_PORT });
  const family = parseFamily(flags.ipv4, flags.ipv6, host);
  const tls = tlsFromCommandLine(flags, cliValues);
  const stop = new AbortController();
  void io.nextStopSignal().then(() => stop.abort());
  const lines = flags.quiet !== true && flags.json !== true;
  let where = '';
  const result = await ping({
    ...(options as { intervalMs: number; size: number; probeTimeoutMs: number; keep: boolean; udp: boolean; count?: number }),
    host,
    port,
    ...(tls === undefined ? {} : { tls: tls.options }),
    ...(family === undefined ? {} : { family }),
    signal: stop.signal,
    onStart: (address) => (where = address),
    ...(lines ? { onProbe: (probe: ProbeResult) => io.out(`${formatProbe(probe, where)}\n`) } : {}),
  });
  io.out(flags.json === true ? `${JSON.stringify(result)}\n` : formatSummary(result));
  return exitCode(result);
}

/** 0 when at least one probe was echoed and none mismatched, as ping's 0 when a reply came. */
export function exitCode(result: PingResult): number {
  return result.echoed > 0 && result.failures.mismatch === 0 ? 0 : 1;
}

/**
 * One probe's line: `64 bytes from 127.0.0.1:7007: seq=3 connect=0.21 ms echo=0.09 ms` (TLS:
 * `... connect=0.21 ms tls=TLSv1.3 handshake=1.52 ms echo=0.12 ms`), `seq=4 timeout`.
 */
export function formatProbe(probe: ProbeResult, address: string): string {
  switch (probe.outcome) {
    case 'echoed': {
      const connect = probe.connectMs === undefined ? '' : ` connect=${probe.connectMs.toFixed(2)} ms`;
      const tls = probe.tlsProtocol === undefined ? '' : ` tls=${probe.tlsProtocol}`;
      const handshake = probe.handshakeMs === undefined ? '' : ` handshake=${probe.handshakeMs.toFixed(2)} ms`;
      return `${probe.bytes} bytes from ${address}: seq=${probe.seq}${connect}${tls}${handshake} echo=${probe.echoMs.toFixed(2)} ms`;
    }
    case 'tls-error':
      return `seq=${probe.seq} tls-error: ${probe.reason ?? probe.errorCode ?? ''}`;
    case 'mismatch':
      return `seq=${probe.seq} mismatch at byte ${probe.offset ?? 0}`;
    case 'closed':
      return `seq=${probe.seq} closed after ${probe.received ?? 0} bytes`;
    case 'error':
      return `seq=${probe.seq} error ${probe.errorCode ?? ''}`;
    default:
      return `seq=${probe.seq} ${probe.outcome}`;
  }
}

/** The summary, as ping's. */
export function formatSummary(result: PingResult): string {
  const failed = PROBE_FAILURES.filter((kind) => result.failures[kind] > 0).map((kind) => `${result.failures[kind]} ${kind}`);
  const lines = [
    `--- ${result.target} tcpecho ping statistics ---`,
    `${result.sent} probes sent, ${result.echoed} echoed, ${formatPercent(result.lossPercent)}% loss${failed.length === 0 ? '' : ` (${failed.join(', ')})`}`,
  ];
  if (result.connect !== undefined) lines.push(`connect ${formatTimes(result.connect)}`);
  if (result.handshake !== undefined) lines.push(`handshake ${formatTimes(result.handshake)}`);
  if (result.echo !== undefined) lines.push(`echo ${formatTimes(result.echo)}`);
  return `${lines.join('\n')}\n`;
}

function formatTimes(stats: TimeStats): string {
  return `min/avg/max/mdev = ${[stats.min, stats.avg, stats.max, stats.mdev].map((ms) => ms.toFixed(3)).join('/')} ms`;
}

/** `0`, `100`, `33.3`: whole numbers as they are, others to one decimal. */
function formatPercent(percent: number): string {
  return Number.isInteger(percent) ? String(percent) : percent.toFixed(1);
}
