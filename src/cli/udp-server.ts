import { startControlOrStop } from './fault-flags.js';
import { startUdpEchoServer } from '../server/udp/udp-echo-server.js';
import { DROP_REASONS, type UdpEchoServer, type UdpEchoServerOptions, type UdpEchoStats } from '../server/udp/types.js';
import { formatAddress } from '../options/values.js';
import type { Io } from './io.js';
import { LOG_COALESCE_MS, LogSink } from './log-sink.js';
import { stamp } from './server-log.js';

/**
 * `tcpecho server --udp`: binds (or serves the passed-in socket, `inherited` naming it in the
 * ready line: `, socket-activated fd 3`), logs one line per source when first seen and when
 * forgotten (never one per datagram), drops at most once a second per source; with `control`,
 * serves the fault API as the TCP server does; on SIGINT/SIGTERM stops at once (nothing to
 * drain), prints the summary, resolves with 0.
 */
export async function udpServerCommand(
  options: UdpEchoServerOptions,
  how: { quiet: boolean; control: { port: number; host: string } | undefined; inherited?: string },
  io: Io,
): Promise<number> {
  const { quiet, inherited = '' } = how;
  // The command line's values come with every server option's default, TCP's included.
  const server = await startUdpEchoServer(pick(options, UDP_KEYS));
  const control = how.control === undefined ? undefined : await startControlOrStop(server, how.control);
  if (control !== undefined) io.log(`tcpecho control on ${control.url}`);
  // A hex dump goes straight to stderr: a source's line must not wait behind its datagrams' dump.
  const log = new LogSink(process.stderr, { stamp, coalesceMs: options.hexdump === true ? 0 : LOG_COALESCE_MS });
  logSources(server, log.line, quiet);
  if (server.metricsUrl !== undefined) io.log(`tcpecho metrics on ${server.metricsUrl}/metrics`);
  io.log(`tcpecho listening on ${server.url} (mode event, udp${inherited})`);
  const signal = await io.nextStopSignal();
  const stats = server.stats;
  await server.close();
  await control?.close();
  log.flush();
  io.log(`received ${signal}: stopped; ${summary(stats)}`);
  return 0;
}

const UDP_KEYS = ['port', 'host', 'ipv6Only', 'listenFd', 'idleTimeoutMs', 'allow', 'deny', 'hexdump', 'udpAllowLowPorts', 'udpRate', 'udpMaxSources', 'faults', 'metrics'] as const;

function pick<T extends object>(from: T, keys: readonly (keyof T)[]): T {
  const out: Partial<T> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out as T;
}

function logSources(server: UdpEchoServer, write: (line: string) => void, quiet: boolean): void {
  server.on('warning', (err) => write(`${stamp()} warning ${err.message}`));
  // Drops are logged even with --quiet, as TCP's rejections are (already once a second per source).
  server.on('drop', (d) => write(`${stamp()} drop ${formatAddress(d.address, d.port)} reason=${d.reason} dropped=${d.dropped}`));
  if (quiet) return;
  server.on('source', (s) => write(`${stamp()} source ${formatAddress(s.address, s.port)} first seen`));
  server.on('evict', (e) => {
    // The sources left at shutdown are in the summary, not one line each.
    if (e.reason === 'close') return;
    write(`${stamp()} forget ${e.address} reason=${e.reason} datagrams=${e.datagrams} bytes=${e.bytes} dropped=${e.dropped}`);
  });
}

/** `echoed 12 datagram(s) (345 bytes); dropped 3: reflection-port 1, rate 2, denied 0, send-queue 0, delay-queue 0; received 15` */
export function summary(stats: UdpEchoStats): string {
  const dropped = DROP_REASONS.reduce((sum, reason) => sum + stats.dropped[reason], 0);
  const reasons = DROP_REASONS.map((reason) => `${reason} ${stats.dropped[reason]}`).join(', ');
  return `echoed ${stats.echoed} datagram(s) (${stats.echoedBytes} bytes); dropped ${dropped}: ${reasons}; received ${stats.received}`;
}
