import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { AddressInUseError, InheritedSocketError, ListenError, PermissionDeniedError, systemCode } from '../../errors.js';
import { resolveOptions } from '../../options/resolve.js';
import { formatAddress } from '../../options/values.js';
import { AddressRules, unmapped } from '../address-rules.js';
import { udpFaultsInForce, type Faults } from '../faults/faults.js';
import { inspectInheritedDatagramSocket, type InheritedDatagramSocket } from '../inherited-socket.js';
import type { EchoServerAddress } from '../types.js';
import { metricsOption, startMetricsEndpoint, type MetricsEndpoint } from '../metrics-endpoint.js';
import { DatagramDump } from './datagram-dump.js';
import { isReflectingPort } from './reflection.js';
import { SourceTable, type EvictReason, type Source } from './source-table.js';
import {
  DROP_REASONS,
  type DropReason,
  type UdpEchoServer,
  type UdpEchoServerEvents,
  type UdpEchoServerOptions,
  type UdpEchoStats,
} from './types.js';

/**
 * Datagrams queued in libuv (not yet taken by the kernel) past which an echo is dropped
 * (`send-queue`): dgram's send() queues without bound when the socket's send buffer is full.
 */
const MAX_SEND_QUEUE = 1024;
/** Asked for the receive buffer, so that a burst is queued rather than lost (capped by net.core.rmem_max). */
const RECV_BUFFER_BYTES = 4 * 2 ** 20;
/** Bytes of delayed echoes held at once, past which a datagram to delay is dropped (`delay-queue`): a flood into a long delay stays bounded. */
export const UDP_HOLD_LIMIT = 2 ** 20;

type Resolved = Required<Omit<UdpEchoServerOptions, 'allow' | 'deny' | 'faults' | 'listenFd' | 'metrics'>> & { allow: string[] | undefined; deny: string[] | undefined; listenFd: number | undefined };

class DatagramEchoServer extends EventEmitter<UdpEchoServerEvents> implements UdpEchoServer {
  readonly mode = 'event' as const;
  readonly transport = 'udp' as const;
  readonly #socket: dgram.Socket;
  readonly #table: SourceTable;
  readonly #rules: AddressRules | undefined;
  readonly #checkPorts: boolean;
  readonly #rate: number;
  readonly #dump: DatagramDump | undefined;
  readonly #dropped: Record<DropReason, number> = { 'reflection-port': 0, rate: 0, denied: 0, 'send-queue': 0, 'delay-queue': 0 };
  #faults: Faults | undefined;
  /** Delayed echoes not yet sent, and their bytes. */
  readonly #heldTimers = new Set<NodeJS.Timeout>();
  #heldBytes = 0;
  #delayed = 0;
  #received = 0;
  #echoed = 0;
  #echoedBytes = 0;
  #sweeper: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** @internal the `metrics` option's endpoint, closed with the socket */
  metricsEndpoint: MetricsEndpoint | undefined;

  /** @internal use startUdpEchoServer */
  constructor(o: Resolved, type: 'udp4' | 'udp6', faults: Faults | undefined) {
    super();
    this.#faults = faults;
    this.#rules = AddressRules.from(o.allow, o.deny);
    this.#checkPorts = !o.udpAllowLowPorts;
    this.#rate = o.udpRate;
    this.#dump = o.hexdump ? new DatagramDump(process.stderr) : undefined;
    this.#table = new SourceTable({
      max: o.udpMaxSources,
      idleMs: o.idleTimeoutMs,
      rate: o.udpRate,
      onNew: (source) => this.emit('source', { address: unmapped(source.address), port: source.firstPort }),
      onEvict: (source, reason) => this.#sourceEvicted(source, reason),
    });
    this.#socket = dgram.createSocket({ type, ipv6Only: o.ipv6Only });
    // Before any I/O: a send error with no listener would crash the process.
    this.#socket.on('error', (err) => this.emit('warning', err));
    this.#socket.on('message', (message, remote) => this.#socketOnMessage(message, remote));
    if (o.idleTimeoutMs > 0) {
      this.#sweeper = setInterval(() => this.#table.sweep(performance.now()), Math.min(1000, o.idleTimeoutMs));
      this.#sweeper.unref();
    }
  }

  get address(): EchoServerAddress {
    const { address, port, family } = this.#socket.address();
    return { host: address, port, family };
  }

  get url(): string {
    const { host, port } = this.address;
    return formatAddress(host, port);
  }

  get stats(): UdpEchoStats {
    return {
      received: this.#received,
      echoed: this.#echoed,
      echoedBytes: this.#echoedBytes,
      dropped: { ...this.#dropped },
      sources: this.#table.size,
      evicted: this.#table.evicted,
      hexdumpSkipped: this.#dump?.skipped ?? 0,
      delayed: this.#delayed,
    };
  }

  get closing(): boolean {
    return this.#closing !== undefined;
  }

  get metricsUrl(): string | undefined {
    return this.metricsEndpoint?.url;
  }

  /** @internal binds `host:port`, or opens the inherited socket instead. */
  async bind(host: string | undefined, port: number, inherited?: InheritedDatagramSocket): Promise<void> {
    const socket = this.#socket;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(inherited === undefined ? bindError(err, host, port) : openError(err, inherited));
      socket.once('error', onError);
      const done = (): void => {
        socket.off('error', onError);
        resolve();
      };
      if (inherited === undefined) return void socket.bind({ port, ...(host === undefined ? {} : { address: host }), exclusive: true }, done);
      // dgram's `fd` option of socket.bind() (in Node 20's docs): the socket is opened, not bound; it throws
      // for a descriptor libuv does not take for UDP.
      try {
        socket.bind({ fd: inherited.fd, exclusive: true }, done);
      } catch (err) {
        onError(err as Error);
      }
    }).catch(async (err: unknown) => {
      await this.destroy();
      throw err;
    });
    if (inherited !== undefined) {
      // Sending to the other family fails datagram by datagram, so a wrong guess (no /proc/net) stops here.
      const family = socket.address().family;
      if (family !== (inherited.type === 'udp4' ? 'IPv4' : 'IPv6')) {
        await this.destroy();
        throw new InheritedSocketError(`Cannot serve UDP on fd ${inherited.fd}: an ${family} socket, opened as ${inherited.type} (/proc/net/udp and udp6 could not be read)`);
      }
    }
    try {
      if (socket.getRecvBufferSize() < RECV_BUFFER_BYTES) socket.setRecvBufferSize(RECV_BUFFER_BYTES);
    } catch {
      // Refused (a container's limits): the kernel's default buffer serves, with more loss under bursts.
    }
  }

  setFaults(faults: Faults): Promise<void> {
    try {
      this.#faults = udpFaultsInForce(faults);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  clearFaults(): Promise<void> {
    return this.setFaults({});
  }

  getFaults(): Faults {
    return { ...this.#faults };
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      clearInterval(this.#sweeper);
      for (const timer of this.#heldTimers) clearTimeout(timer);
      this.#heldTimers.clear();
      this.#heldBytes = 0;
      this.#table.clear();
      try {
        this.#socket.close(() => resolve());
      } catch {
        // Never bound, or closed already.
        resolve();
      }
    }).then(async () => {
      await this.metricsEndpoint?.close();
      this.emit('close');
    });
    return this.#closing;
  }

  /** The same as `close()`: a datagram server has nothing to drain. */
  destroy(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }

  #socketOnMessage(message: Buffer, remote: dgram.RemoteInfo): void {
    this.#received++;
    const { address, port } = remote;
    const now = performance.now();
    const source = this.#table.get(address, port, now);
    source.lastMs = now;
    if (this.#checkPorts && isReflectingPort(port)) return this.#drop(source, port, 'reflection-port', now);
    if (this.#rules !== undefined && !this.#rules.allows(address)) return this.#drop(source, port, 'denied', now);
    if (this.#rate > 0 && !source.take(now, this.#rate)) return this.#drop(source, port, 'rate', now);
    if (this.#socket.getSendQueueCount() >= MAX_SEND_QUEUE) return this.#drop(source, port, 'send-queue', now);
    const delayMs = this.#delayOf(this.#faults);
    if (delayMs !== undefined && this.#heldBytes + message.length > UDP_HOLD_LIMIT) return this.#drop(source, port, 'delay-queue', now);
    if (this.#dump !== undefined) this.#dump.received(formatAddress(unmapped(address), port), message);
    if (delayMs === undefined) return this.#echo(message, source, port, address);
    // The datagram dgram gave us is ours to keep.
    this.#delayed++;
    this.#heldBytes += message.length;
    const timer = setTimeout(() => {
      this.#heldTimers.delete(timer);
      this.#heldBytes -= message.length;
      this.#echo(message, source, port, address);
    }, delayMs);
    this.#heldTimers.add(timer);
  }

  /** How long this datagram's echo is held, or undefined for none: the delay ± jitter, on a share `faultRate`. */
  #delayOf(faults: Faults | undefined): number | undefined {
    if (faults === undefined || (faults.delayMs === undefined && faults.jitterMs === undefined)) return undefined;
    if (faults.faultRate !== undefined && Math.random() >= faults.faultRate) return undefined;
    const jitter = faults.jitterMs ?? 0;
    return Math.max(0, (faults.delayMs ?? 0) + (Math.random() * 2 - 1) * jitter);
  }

  #echo(message: Buffer, source: Source, port: number, address: string): void {
    // RFC 862: "send it back as it came", to the address and port it came from, whatever its
    // size (an empty datagram too).
    this.#socket.send(message, port, address);
    source.datagrams++;
    source.bytes += message.length;
    this.#echoed++;
    this.#echoedBytes += message.length;
    if (this.#dump !== undefined) this.#dump.sent(formatAddress(unmapped(address), port), message.length);
  }

  #drop(source: Source, port: number, reason: DropReason, now: number): void {
    this.#dropped[reason]++;
    source.dropped++;
    // Reported at most once a second per source: a flood must not become a flood of log lines.
    if (now - source.lastDropReportMs < 1000) return;
    source.lastDropReportMs = now;
    this.emit('drop', { address: unmapped(source.address), port, reason, dropped: source.dropped });
  }

  #sourceEvicted(source: Source, reason: EvictReason): void {
    this.emit('evict', {
      address: unmapped(source.address),
      port: source.firstPort,
      reason,
      datagrams: source.datagrams,
      bytes: source.bytes,
      dropped: source.dropped,
    });
  }
}

function bindError(err: Error, host: string | undefined, port: number): Error {
  const where = host === undefined ? `UDP port ${port}` : `UDP ${formatAddress(host, port)}`;
  switch (systemCode(err)) {
    case 'EADDRINUSE':
      return new AddressInUseError(`Cannot bind ${where}: address already in use (EADDRINUSE)`, { cause: err });
    case 'EACCES':
      return new PermissionDeniedError(`Cannot bind ${where}: permission denied (EACCES); ports below 1024 need root or CAP_NET_BIND_SERVICE`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new ListenError(`Cannot bind ${where}: no such local address (EADDRNOTAVAIL)`, { cause: err });
    default:
      return new ListenError(`Cannot bind ${where}: ${err.message}`, { cause: err });
  }
}

function openError(err: Error, inherited: InheritedDatagramSocket): Error {
  return new InheritedSocketError(`Cannot serve UDP on fd ${inherited.fd}: ${systemCode(err) ?? err.message}`, { cause: err });
}

/** The socket type for `host`: a literal's family, `'*'` dual-stack IPv6, a name looked up. */
async function socketType(host: string): Promise<{ type: 'udp4' | 'udp6'; bindHost: string | undefined }> {
  if (host === '*') return { type: 'udp6', bindHost: '::' };
  const family = net.isIP(host);
  if (family !== 0) return { type: family === 4 ? 'udp4' : 'udp6', bindHost: host };
  try {
    const found = await dns.lookup(host);
    return { type: found.family === 6 ? 'udp6' : 'udp4', bindHost: found.address };
  } catch (err) {
    throw new ListenError(`Cannot bind UDP ${host}: unknown host \`${host}\``, { cause: err });
  }
}

/** Every drop reason, for reports that list them all. */
export { DROP_REASONS };

/**
 * Starts a UDP echo server (RFC 862); resolves once its socket is bound (or, with `listenFd`, the
 * inherited one opened). With no options: a free
 * port of 127.0.0.1, reflection checks on, 10,000 datagrams a second per source address. Takes
 * the options of `startEchoServer` that apply to datagrams (a TCP-only one is a `UsageError`).
 */
export async function startUdpEchoServer(options: UdpEchoServerOptions = {}): Promise<UdpEchoServer> {
  // Checked against the option table as the CLI's are, with UDP's defaults (UDP_DEFAULTS).
  const o = resolveOptions('server', { ...options, udp: true }) as unknown as Resolved;
  const faults = options.faults === undefined ? undefined : udpFaultsInForce(options.faults, 'faults.');
  const metrics = metricsOption(options.metrics);
  let server: DatagramEchoServer;
  if (o.listenFd !== undefined) {
    // A passed-in socket (socket activation): its family decides the socket type; nothing is bound.
    const inherited = inspectInheritedDatagramSocket(o.listenFd);
    server = new DatagramEchoServer(o, inherited.type, faults);
    await server.bind(undefined, 0, inherited);
  } else {
    const { type, bindHost } = await socketType(o.host);
    server = new DatagramEchoServer(o, type, faults);
    await server.bind(bindHost, o.port);
  }
  if (metrics !== undefined) {
    try {
      server.metricsEndpoint = await startMetricsEndpoint(server, metrics);
    } catch (err) {
      await server.destroy();
      throw err;
    }
  }
  return server;
}
