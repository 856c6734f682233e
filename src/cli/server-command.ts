import { startEchoServer } from '../server/echo-server.js';
import type { EchoServerOptions } from '../server/echo-server.js';
import { parseCommandLine } from '../options/command-line.js';
import { optionsHelp } from '../options/help.js';
import { DEFAULT_PORT } from '../options/table.js';
import { LOG_COALESCE_MS, LogSink } from './log-sink.js';
import { jsonLine, logConnections, logWarnings, stamp, type LogFormat } from './server-log.js';
import type { Io } from './io.js';
import { UsageError } from '../errors.js';
import { parseFamily, parseTarget } from './address.js';
import { serverTlsFromFlags } from './tls-files.js';
import { controlFromFlags, faultsFromFlags, startControlOrStop } from './fault-flags.js';
import { resolveServerTls } from '../server/tls/server-tls.js';
import { activationFds, describeFd, type ActivationFd } from '../server/inherited-socket.js';
import { InheritedSocketError } from '../errors.js';

export function serverHelp(): string {
  return `Usage: tcpecho server [PORT | HOST:PORT] [options]
       tcpecho server --unix PATH [options]
       tcpecho server --listen-fd FD [options]   (or started by socket activation)

Listens for TCP clients and echoes every byte each one sends back to it (default: port
${DEFAULT_PORT} on every interface, event mode). With --udp, echoes UDP datagrams instead, and
refuses those from the ports of reflecting services (see the README's UDP section).

${optionsHelp('server')}
Exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot listen, 2 invalid option.
`;
}

/** `tcpecho server`: runs until SIGINT or SIGTERM, then drains and resolves with the exit code. */
export async function serverCommand(args: string[], io: Io): Promise<number> {
  const { options, flags, cliValues, positionals, given } = parseCommandLine('server', args, 1);
  if (flags.help) return io.out(serverHelp()), 0;
  if (flags.version) return io.out(`${io.version}\n`), 0;
  // The option table has checked every value; its keys are EchoServerOptions'.
  const serverOptions = options as EchoServerOptions;
  // Socket activation (systemd, systemd-socket-activate): LISTEN_* are read and removed from the
  // environment before any child process starts.
  const activated = socketActivation(given);
  if (activated !== undefined) serverOptions.listenFd = activated.fd;
  if (given.has('listenFd') || activated !== undefined) {
    // A passed-in socket: a stream listener for the stream server, a UDP socket with --udp.
    checkNoTcpAddress(positionals[0], flags, given, activated === undefined ? '`--listen-fd`' : 'socket activation (LISTEN_FDS)', true);
  } else if (given.has('unix')) {
    checkNoTcpAddress(positionals[0], flags, given);
  } else {
    if (positionals[0] !== undefined) Object.assign(serverOptions, listenTarget(positionals[0], given));
    Object.assign(serverOptions, familyTarget(flags, serverOptions.host ?? '*', given));
  }

  // How the ready line names a passed-in socket: `, socket-activated fd 3 name=tcpecho`.
  const inherited = activated !== undefined ? `, socket-activated ${describeFd(activated)}` : given.has('listenFd') ? `, fd ${String(serverOptions.listenFd)}` : '';

  const tlsFlags = serverTlsFromFlags(cliValues, flags.tls === true);
  if (tlsFlags !== undefined) {
    // Checked here so that a mistake names the flag and its file; the library gets the PEM text.
    const tls = await resolveServerTls(tlsFlags.tls, tlsFlags.names);
    if (tls !== undefined) serverOptions.tls = tls.settings;
  }

  // The endpoint starts and stops with the server (the library's `metrics` option).
  if (cliValues.metricsPort !== undefined) {
    serverOptions.metrics = { port: cliValues.metricsPort as number, host: (cliValues.metricsHost as string | undefined) ?? '127.0.0.1' };
  }

  const faults = faultsFromFlags(cliValues);
  if (options.udp === true) {
    const { udpServerCommand } = await import('./udp-server.js');
    return udpServerCommand({ ...serverOptions, ...(faults === undefined ? {} : { faults }) }, { quiet: flags.quiet === true, control: controlFromFlags(cliValues), inherited }, io);
  }
  const format = (cliValues.logFormat as LogFormat | undefined) ?? 'text';
  // A status line: the text as it always was, or (JSON logs) an object with the text as `message`.
  const say = (event: string, fields: Record<string, unknown>, text: string): void => {
    io.log(format === 'json' ? jsonLine(event, { ...fields, message: text }) : text);
  };

  if (faults !== undefined) serverOptions.faults = faults;

  const server = await startEchoServer(serverOptions);
  const where = controlFromFlags(cliValues);
  const control = where === undefined ? undefined : await startControlOrStop(server, where);
  if (control !== undefined) say('control', { url: control.url }, `tcpecho control on ${control.url}`);
  if (server.metricsUrl !== undefined) say('metrics', { url: `${server.metricsUrl}/metrics` }, `tcpecho metrics on ${server.metricsUrl}/metrics`);
  const log = new LogSink(process.stderr, {
    stamp,
    // A hex dump goes straight to stderr: its connection's open line must not wait behind it.
    coalesceMs: serverOptions.hexdump === true ? 0 : LOG_COALESCE_MS,
    ...(format === 'json' ? { droppedLine: (dropped: number) => jsonLine('warning', { message: `${dropped} log lines dropped`, dropped }) } : {}),
  });
  if (!flags.quiet) logConnections(server, log.line, format);
  logWarnings(server, log.line, format);
  if (server.tlsFingerprint !== undefined) say('tls', { fingerprint: server.tlsFingerprint }, `tcpecho tls certificate SHA256 Fingerprint=${server.tlsFingerprint}`);
  const { host, port, family } = server.address;
  const tls = server.tlsFingerprint !== undefined;
  say('listening', { host, port, family, mode: server.mode, tls, url: server.url, pid: process.pid }, `tcpecho listening on ${server.url} (mode ${server.mode}${tls ? ', tls' : ''}${inherited})`);

  const signal = await io.nextStopSignal();
  // Stop accepting before saying so: whoever reads the line may connect at once.
  const closing = server.close();
  log.flush();
  const draining = server.connections;
  say('drain', { signal, connections: draining }, `received ${signal}: no longer accepting; draining ${draining} connection(s) (again to stop now)`);
  void io.nextStopSignal().then(() => server.destroy());
  await closing;
  await control?.close();
  log.flush();
  say('stopped', {}, 'stopped');
  return 0;
}

/**
 * The one descriptor socket activation passed, or undefined when not activated. tcpecho serves
 * one listening socket: more than one is refused in one line naming them (with their
 * LISTEN_FDNAMES), and so is `--listen-fd` as well.
 */
function socketActivation(given: Set<string>): ActivationFd | undefined {
  const fds = activationFds();
  if (fds === undefined) return undefined;
  if (fds.length > 1) throw new InheritedSocketError(`Socket activation passed ${fds.length} descriptors (${fds.map(describeFd).join(', ')}); tcpecho serves one listening socket`);
  if (given.has('listenFd')) throw new UsageError('Give `--listen-fd` or start by socket activation (LISTEN_FDS), not both');
  return fds[0];
}

/** `--unix PATH` (or a passed-in socket) listens instead of a TCP address: naming one as well is a mistake, said in one line. */
function checkNoTcpAddress(positional: string | undefined, flags: Record<string, boolean>, given: Set<string>, what = '`--unix`', orUnix = false): void {
  const tcp = [
    ...(orUnix && given.has('unix') ? ['`--unix`'] : []),
    ...(positional === undefined ? [] : [`\`${positional}\``]),
    ...(given.has('host') ? ['`--host`'] : []),
    ...(given.has('port') ? ['`--port`'] : []),
    ...(given.has('ipv6Only') ? ['`--ipv6-only`'] : []),
    ...(flags.ipv4 === true ? ['`-4`'] : []),
    ...(flags.ipv6 === true ? ['`-6`'] : []),
  ];
  if (tcp.length > 0) throw new UsageError(`Give either ${what} or ${orUnix ? 'an address' : 'a TCP address'}, not both (got ${tcp.join(', ')} with ${what})`);
}

/** `tcpecho server 9000` (nc's habit) or `tcpecho server 127.0.0.1:9000`. */
function listenTarget(target: string, given: Set<string>): Partial<EchoServerOptions> {
  if (given.has('port')) throw new UsageError('Give the port either as an argument or with `--port`, not both');
  if (/^\d+$/.test(target)) return { port: parseTarget([target], { host: '*', port: DEFAULT_PORT }).port };
  if (!/:\d+$/.test(target)) throw new UsageError(`Expected \`PORT\` or \`HOST:PORT\`, got \`${target}\``);
  if (given.has('host')) throw new UsageError('Give the host either in the argument or with `--host`, not both');
  return parseTarget([target], { host: '*', port: DEFAULT_PORT });
}

/**
 * nc's `-4` / `-6` for a listener: with no host, every interface of that family (`0.0.0.0`, or
 * `::` refusing IPv4); with a host, it must be an address of that family (or a name).
 */
function familyTarget(flags: Record<string, boolean>, host: string, given: Set<string>): Partial<EchoServerOptions> {
  const family = parseFamily(flags.ipv4, flags.ipv6, host === '*' ? '' : host);
  if (family === undefined) return {};
  if (family === 6) return host === '*' ? { host: '::', ipv6Only: true } : { ipv6Only: true };
  if (given.has('ipv6Only')) throw new UsageError('Give `-4` or `--ipv6-only`, not both');
  return host === '*' ? { host: '0.0.0.0' } : {};
}
