import { EventEmitter } from 'node:events';
import net from 'node:net';
import { UsageError } from '../errors.js';
import { resolveOptions } from '../options/resolve.js';
import { UNIX_PEER_ADDRESS } from '../unix-path.js';
import { AddressRules } from './address-rules.js';
import { ClusterEchoServer } from './cluster-mode.js';
import { addressUrl, isUnixTarget, listenOn, listeningAddress, type ListenTarget } from './listen.js';
import { inspectInheritedSocket } from './inherited-socket.js';
import { drainDispatcher, type ConnectionHooks, type Dispatcher } from './connection-events.js';
import { EventDispatcher } from './event-mode.js';
import { ForkDispatcher } from './fork-mode.js';
import { closeListener, Shutdown } from './shutdown.js';
import { EchoContext } from './echo-context.js';
import type { EchoSettings } from './echo-settings.js';
import { connectionServing, type ConnectionServing } from './serve-connection.js';
import { resolveServerTls, type ServerTls } from './tls/server-tls.js';
import { faultsInForce, type Faults } from './faults/faults.js';
import { refusedByFault } from './faults/refuse.js';
import { metricsOption, startMetricsEndpoint, type MetricsEndpoint, type MetricsEndpointOptions } from './metrics-endpoint.js';
import { ServerCounters, type EchoServerMetrics } from './server-counters.js';
import {
  type CloseOptions,
  type ConnectionReject,
  type EchoServer,
  type EchoServerAddress,
  type EchoServerEvents,
  type EchoServerOptions,
  type ServerMode,
} from './types.js';

// The public types live in types.ts (so that no mode imports this module); re-exported for callers of this one.
export { SERVER_MODES } from './types.js';
export type { CloseOptions, ConnectionReject, EchoServer, EchoServerAddress, EchoServerEvents, EchoServerOptions, ServerMode } from './types.js';

/** Event and fork modes: one process accepts, and serves or hands over each connection. */
class SingleProcessServer extends EventEmitter<EchoServerEvents> implements EchoServer {
  readonly mode: ServerMode;
  readonly #server: net.Server;
  readonly #dispatcher: Dispatcher;
  readonly #drainTimeoutMs: number;
  readonly #maxConnections: number;
  /** Listening on a Unix socket: connections have no peer address. */
  readonly #unix: boolean;
  readonly #rules: AddressRules | undefined;
  /** Why `#rules` refuse: `denied`, or `proxy-untrusted` when they are `proxyFrom`. */
  readonly #ruleReason: ConnectionReject['reason'];
  readonly #shutdown = new Shutdown((forced) => this.#stop(forced));
  readonly #counters = new ServerCounters();
  #nextId = 1;
  #rejected = 0;
  #target: ListenTarget | undefined;
  #metricsEndpoint: MetricsEndpoint | undefined;

  /** @internal use startEchoServer */
  readonly tlsFingerprint: string | undefined;
  /** The faults in force; this process reads `refuseRate` on accept. */
  #faults: Faults | undefined;

  constructor(
    options: Required<Pick<EchoServerOptions, 'mode' | 'maxChildren' | 'spare' | 'drainTimeoutMs' | 'maxConnections'>> & { unix: boolean },
    settings: EchoSettings,
    serving: ConnectionServing | undefined,
    tls: ServerTls | undefined,
    rules: AddressRules | undefined,
  ) {
    super();
    this.mode = options.mode;
    this.#unix = options.unix;
    this.#rules = rules;
    this.#ruleReason = settings.proxyProtocol === true ? 'proxy-untrusted' : 'denied';
    this.tlsFingerprint = tls?.fingerprint;
    this.#faults = settings.faults;
    this.#drainTimeoutMs = options.drainTimeoutMs;
    this.#maxConnections = options.maxConnections;
    const hooks: ConnectionHooks = {
      open: (info) => {
        this.#counters.opened();
        this.emit('connection', info);
      },
      close: (info) => {
        this.#counters.closedConnection(info);
        this.emit('disconnect', info);
      },
      warning: (error) => this.emit('warning', error),
    };
    this.#dispatcher = options.mode === 'fork'
      ? new ForkDispatcher(hooks, { maxChildren: options.maxChildren, spare: options.spare, settings, counters: this.#counters })
      : new EventDispatcher(hooks, serving as ConnectionServing);
    this.#server = net.createServer({
      allowHalfOpen: true,
      // In fork mode the parent must never read: whatever it read would never reach the child. In
      // event mode echoConnection moves each socket to one that reads into a shared buffer, and a
      // socket that has not started reading needs no stop first.
      pauseOnConnect: true,
      // No server-wide noDelay: echoConnection sets it on each socket in whichever process
      // serves it; setting it here as well would cost a second system call per connection.
    });
    this.#server.on('connection', (socket) => this.#serverOnConnection(socket));
  }

  /** Where the server listens, with the real port when 0 was asked. */
  get address(): EchoServerAddress {
    return listeningAddress(this.#server, this.#target);
  }

  /** `HOST:PORT`, IPv6 hosts in brackets; `unix:PATH` on a Unix socket. */
  get url(): string {
    return addressUrl(this.address);
  }

  /** Connections accepted and not yet closed (in fork mode, including those waiting for a child). */
  get connections(): number {
    return this.#dispatcher.active;
  }

  /** Connections closed at once: `maxConnections` were open, or `allow`/`deny` refused the address. */
  get rejectedConnections(): number {
    return this.#rejected;
  }

  get closing(): boolean {
    return this.#shutdown.started;
  }

  /** Fork mode: the pids of the child processes alive now, spares included; empty in other modes. */
  get childPids(): number[] {
    return this.#dispatcher instanceof ForkDispatcher ? this.#dispatcher.childPids : [];
  }

  /** Fork mode: the pids of the spare children, started and waiting for a client. */
  get sparePids(): number[] {
    return this.#dispatcher instanceof ForkDispatcher ? this.#dispatcher.sparePids : [];
  }

  metrics(): EchoServerMetrics {
    const figures = this.#counters.snapshot(this.mode, this.connections);
    if (this.#dispatcher instanceof ForkDispatcher) {
      const counters = this.#counters;
      figures.fork = {
        children: this.childPids.length,
        spares: this.sparePids.length,
        childStarts: counters.childStarts,
        childStartFailures: counters.childStartFailures,
        handOffSeconds: counters.handOff.figures(),
      };
    }
    return figures;
  }

  get metricsUrl(): string | undefined {
    return this.#metricsEndpoint?.url;
  }

  /**
   * @internal Listens, then starts fork mode's spares and the metrics endpoint; on failure
   * nothing is left running.
   */
  async listen(target: ListenTarget, metrics: MetricsEndpointOptions | undefined): Promise<void> {
    this.#target = target;
    try {
      await listenOn(this.#server, target);
      // After listening, an error is an accept failure (EMFILE, ENFILE, ...): libuv has already
      // dealt with the connection, and the server keeps serving. Unhandled, it would crash the process.
      this.#server.on('error', (err) => this.emit('warning', err));
      if (this.#dispatcher instanceof ForkDispatcher) this.#dispatcher.start();
      if (metrics !== undefined) this.#metricsEndpoint = await startMetricsEndpoint(this, metrics);
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  getFaults(): Faults {
    return { ...this.#faults };
  }

  async setFaults(faults: Faults): Promise<void> {
    this.#faults = faultsInForce(faults);
    if (this.#dispatcher instanceof ForkDispatcher) await this.#dispatcher.setFaults(this.#faults);
    else (this.#dispatcher as EventDispatcher).echo.faults = this.#faults;
  }

  clearFaults(): Promise<void> {
    return this.setFaults({});
  }

  close(options: CloseOptions = {}): Promise<void> {
    return this.#shutdown.start(options.force === true);
  }

  destroy(): Promise<void> {
    return this.#shutdown.start(true);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }

  async #stop(forced: Promise<void>): Promise<void> {
    const listenerClosed = closeListener(this.#server);
    await drainDispatcher(this.#dispatcher, this.#drainTimeoutMs, forced);
    await this.#dispatcher.exited?.();
    await listenerClosed;
    // Last: /readyz says 503 and /metrics serves the drain's figures until the drain is over.
    await this.#metricsEndpoint?.close();
    this.emit('close');
  }

  #serverOnConnection(socket: net.Socket): void {
    // A Unix socket's peer has no address: `unix`, port 0.
    const { remoteAddress, remotePort } = this.#unix ? UNIX_PEER : socket;
    if (remoteAddress === undefined || remotePort === undefined) {
      // Reset before we got to it: nothing to serve.
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    // Refused on the address alone, before anything reads the socket (pauseOnConnect): in fork
    // mode no child is used. Node 20 ignores the server's `blockList` option, hence our own check.
    // With the PROXY protocol these are `proxyFrom`; `allow`/`deny` wait for the header.
    if (this.#rules !== undefined && !this.#rules.allows(remoteAddress)) return this.#reject(socket, remoteAddress, remotePort, this.#ruleReason);
    // Closed at once rather than left to wait: the client learns now, and the ones already
    // served keep their share. (Node's own maxConnections cannot be used: it is unsupported
    // once sockets are handed to other processes, and cluster mode hangs the excess client.)
    if (this.#dispatcher.active >= this.#maxConnections) return this.#reject(socket, remoteAddress, remotePort, 'max-connections');
    // refusedByFault has reset the socket itself.
    if (refusedByFault(this.#faults, socket)) return this.#rejectedOne(remoteAddress, remotePort, 'refused');
    this.#dispatcher.dispatch(socket, { id: this.#nextId++, remoteAddress, remotePort });
  }

  #reject(socket: net.Socket, remoteAddress: string, remotePort: number, reason: ConnectionReject['reason']): void {
    socket.on('error', () => {});
    socket.destroy();
    this.#rejectedOne(remoteAddress, remotePort, reason);
  }

  /** Counted, then emitted: every `reject` of this server goes through here. */
  #rejectedOne(remoteAddress: string, remotePort: number, reason: ConnectionReject['reason']): void {
    this.#rejected++;
    this.#counters.rejectedConnection(reason);
    this.emit('reject', { remoteAddress, remotePort, reason, rejected: this.#rejected });
  }
}

const UNIX_PEER = { remoteAddress: UNIX_PEER_ADDRESS, remotePort: 0 } as const;

/**
 * Starts an echo server; resolves once it is listening (cluster mode: once every worker serves).
 * With no options: event mode on a free port of 127.0.0.1. If it rejects, nothing it started is
 * left running.
 */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  // Every value checked against the option table, with its default: the same checks as the CLI's.
  const o = resolveOptions('server', options) as unknown as Required<Omit<EchoServerOptions, 'host'>> & { host: string };
  const metrics = metricsOption(options.metrics);
  // A TCP server that silently ignored `udp: true` would be a mode behaving like another.
  if ((o as { udp?: boolean }).udp === true) throw new UsageError('`udp: true` is startUdpEchoServer()\'s: startEchoServer() serves TCP');
  const tls = await resolveServerTls(options.tls);
  const faults = options.faults === undefined ? undefined : faultsInForce(options.faults, 'faults.');
  const settings: EchoSettings = {
    idleTimeoutMs: o.idleTimeoutMs,
    handshakeTimeoutMs: o.handshakeTimeoutMs,
    hexdump: o.hexdump,
    tls: tls?.settings,
    faults,
  };
  const proxyFrom = (o.proxyFrom as string[] | undefined) ?? [];
  if (o.proxyProtocol) {
    // allow/deny are matched where the header is read, against the client address it carries;
    // the accepting process checks the balancer's address against proxyFrom alone.
    settings.proxyProtocol = true;
    settings.allow = o.allow ?? [];
    settings.deny = o.deny ?? [];
  } else if (proxyFrom.length > 0) {
    throw new UsageError('--proxy-from (proxyFrom) needs --proxy-protocol (proxyProtocol)');
  }
  const acceptAllow = o.proxyProtocol ? proxyFrom : o.allow ?? [];
  const acceptDeny = o.proxyProtocol ? [] : o.deny ?? [];
  // `*`: no host for listen(), which then takes every interface, IPv6 and IPv4 alike.
  // Neither has a default: undefined unless given (a Unix socket instead of TCP).
  const unix = o.unix as string | undefined;
  const unixMode = o.unixMode as number | undefined;
  // A passed-in socket is checked before anything starts: the wrong kind is one line.
  const inherited = o.listenFd === undefined ? undefined : inspectInheritedSocket(o.listenFd as number);
  const listen: ListenTarget = { port: o.port, host: o.host === '*' ? undefined : o.host, backlog: o.backlog, ipv6Only: o.ipv6Only, unix, unixMode, inherited };
  if (o.mode === 'cluster') {
    const cluster = new ClusterEchoServer({
      listen,
      workers: o.workers,
      balance: o.balance,
      maxConnections: o.maxConnections,
      drainTimeoutMs: o.drainTimeoutMs,
      settings,
      tlsFingerprint: tls?.fingerprint,
      allow: acceptAllow,
      deny: acceptDeny,
    });
    await cluster.start(metrics);
    return cluster;
  }
  const server = new SingleProcessServer({
    mode: o.mode,
    maxChildren: o.maxChildren,
    spare: o.spare,
    drainTimeoutMs: o.drainTimeoutMs,
    maxConnections: o.maxConnections,
    unix: isUnixTarget(listen),
  }, settings, o.mode === 'event' ? await connectionServing(new EchoContext(), settings) : undefined, tls, AddressRules.from(acceptAllow, acceptDeny));
  await server.listen(listen, metrics);
  return server;
}

