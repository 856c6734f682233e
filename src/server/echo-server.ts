import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import { UsageError } from '../errors.js';
import { DEFAULT_PORT, checkChoice, checkInteger, checkPort, formatAddress } from '../options.js';
import { BALANCES, ClusterEchoServer, type Balance } from './cluster-mode.js';
import { listenOn, listeningAddress } from './listen.js';
import { drainDispatcher, type ConnectionClose, type ConnectionHooks, type ConnectionOpen, type Dispatcher } from './connection-events.js';
import { EventDispatcher } from './event-mode.js';
import { ForkDispatcher } from './fork-mode.js';

/** How connections are served. */
export const SERVER_MODES = ['event', 'fork', 'cluster'] as const;
export type ServerMode = (typeof SERVER_MODES)[number];

export interface EchoServerOptions {
  /** Port to listen on; 0 picks a free one. @default 7007 */
  port?: number;
  /** Address to listen on. @default every interface, IPv4 and IPv6 */
  host?: string;
  /**
   * `event`: one event loop serves every client; `fork`: a new process per client; `cluster`: a
   * primary and `workers` processes each serving clients in an event loop. @default 'event'
   */
  mode?: ServerMode;
  /** Cluster mode: worker processes. @default the number of CPUs */
  workers?: number;
  /** Cluster mode: `rr`, the primary hands each connection to the next worker; `shared`, workers accept themselves. @default 'rr' */
  balance?: Balance;
  /** Fork mode: most child processes at once, spares included; later clients wait, unread. @default 64 */
  maxChildren?: number;
  /** Fork mode: child processes kept started and ready for the next clients; 0 turns it off. @default 2 */
  spare?: number;
  /** Close a connection with no traffic either way for this long; 0 turns it off. @default 0 */
  idleTimeoutMs?: number;
  /**
   * Event mode: most connections at once. One past it is closed at once and reported as a
   * `reject` event; a slot frees when a connection closes. (Fork mode bounds by `maxChildren`.)
   * @default 10000
   */
  maxConnections?: number;
  /** How long `close()` lets open connections finish before closing them. @default 5000 */
  drainTimeoutMs?: number;
  /** Length of the kernel's accept queue (capped by net.core.somaxconn). @default 4096 */
  backlog?: number;
}

export interface EchoServerAddress {
  host: string;
  port: number;
  family: string;
}

export interface EchoServerEvents {
  /** A connection was accepted and handed to what will echo it. */
  open: [info: ConnectionOpen];
  /** A connection has closed. */
  close: [info: ConnectionClose];
  /** A connection past `maxConnections`, closed at once. */
  reject: [info: ConnectionReject];
  /** A failure that did not stop the server, such as `accept` hitting EMFILE. */
  warning: [error: Error];
}

export interface ConnectionReject {
  remoteAddress: string;
  remotePort: number;
  reason: 'max-connections';
  /** Connections rejected so far by this server. */
  rejected: number;
}

/**
 * A listening echo server, in any mode. Get one from {@link startEchoServer}.
 *
 * `close()` stops accepting and lets open connections finish up to `drainTimeoutMs`, then closes
 * the rest (and ends every child or worker); `destroy()` closes everything now. Both are safe to
 * call more than once.
 */
export interface EchoServer extends EventEmitter<EchoServerEvents> {
  readonly mode: ServerMode;
  /** Where the server listens, with the real port when 0 was asked. */
  readonly address: EchoServerAddress;
  /** `HOST:PORT`, IPv6 hosts in brackets. */
  readonly url: string;
  /** Connections accepted and not yet closed (fork mode: including those waiting for a child). */
  readonly connections: number;
  /** Connections closed at once because `maxConnections` were open. */
  readonly rejectedConnections: number;
  /** Fork mode: the children alive now, spares included; cluster mode: the workers. */
  readonly childPids: number[];
  /** Fork mode: the spare children, started and waiting for a client. */
  readonly sparePids: number[];
  close(): Promise<void>;
  destroy(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Event and fork modes: one process accepts, and serves or hands over each connection. */
class SingleProcessServer extends EventEmitter<EchoServerEvents> implements EchoServer {
  readonly mode: ServerMode;
  readonly #server: net.Server;
  readonly #dispatcher: Dispatcher;
  readonly #drainTimeoutMs: number;
  readonly #maxConnections: number;
  #nextId = 1;
  #rejected = 0;
  #closing: Promise<void> | undefined;

  /** @internal use startEchoServer */
  constructor(options: Required<Pick<EchoServerOptions, 'mode' | 'maxChildren' | 'spare' | 'drainTimeoutMs' | 'idleTimeoutMs' | 'maxConnections'>>) {
    super();
    this.mode = options.mode;
    this.#drainTimeoutMs = options.drainTimeoutMs;
    // Fork mode is bounded by its children; its waiting clients are accepted but unread.
    this.#maxConnections = options.mode === 'fork' ? Infinity : options.maxConnections;
    const hooks: ConnectionHooks = {
      open: (info) => this.emit('open', info),
      close: (info) => this.emit('close', info),
      warning: (error) => this.emit('warning', error),
    };
    this.#dispatcher = options.mode === 'fork'
      ? new ForkDispatcher(hooks, { maxChildren: options.maxChildren, spare: options.spare, idleTimeoutMs: options.idleTimeoutMs })
      : new EventDispatcher(hooks, { idleTimeoutMs: options.idleTimeoutMs });
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
    return listeningAddress(this.#server);
  }

  /** `HOST:PORT`, IPv6 hosts in brackets. */
  get url(): string {
    const { host, port } = this.address;
    return formatAddress(host, port);
  }

  /** Connections accepted and not yet closed (in fork mode, including those waiting for a child). */
  get connections(): number {
    return this.#dispatcher.active;
  }

  /** Connections closed at once because `maxConnections` were open. */
  get rejectedConnections(): number {
    return this.#rejected;
  }

  /** Fork mode: the pids of the child processes alive now, spares included; empty in other modes. */
  get childPids(): number[] {
    return this.#dispatcher instanceof ForkDispatcher ? this.#dispatcher.childPids : [];
  }

  /** Fork mode: the pids of the spare children, started and waiting for a client. */
  get sparePids(): number[] {
    return this.#dispatcher instanceof ForkDispatcher ? this.#dispatcher.sparePids : [];
  }

  /** @internal */
  async listen(port: number, host: string | undefined, backlog: number): Promise<void> {
    await listenOn(this.#server, port, host, backlog);
    // After listening, an error is an accept failure (EMFILE, ENFILE, ...): libuv has already dealt
    // with the connection, and the server keeps serving. Unhandled, it would crash the process.
    this.#server.on('error', (err) => this.emit('warning', err));
  }

  close(): Promise<void> {
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  destroy(): void {
    this.#server.close();
    this.#dispatcher.destroyAll();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #drain(): Promise<void> {
    this.#server.close();
    await drainDispatcher(this.#dispatcher, this.#drainTimeoutMs);
  }

  #serverOnConnection(socket: net.Socket): void {
    const { remoteAddress, remotePort } = socket;
    if (remoteAddress === undefined || remotePort === undefined) {
      // Reset before we got to it: nothing to serve.
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    if (this.#dispatcher.active >= this.#maxConnections) {
      // Closed at once rather than left to wait: the client learns now, and the ones already
      // served keep their share. (Node's own maxConnections cannot be used: it is unsupported
      // once sockets are handed to other processes, and cluster mode hangs the excess client.)
      socket.on('error', () => {});
      socket.destroy();
      this.#rejected++;
      this.emit('reject', { remoteAddress, remotePort, reason: 'max-connections', rejected: this.#rejected });
      return;
    }
    this.#dispatcher.dispatch(socket, { id: this.#nextId++, remoteAddress, remotePort });
  }
}

/** Starts an echo server; resolves once it is listening. */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const port = checkPort(options.port ?? DEFAULT_PORT);
  const mode = options.mode ?? 'event';
  if (!SERVER_MODES.includes(mode)) {
    throw new UsageError(`Expected \`mode\` to be one of ${SERVER_MODES.join(', ')}, got \`${String(mode)}\``);
  }
  const backlog = checkInteger(options.backlog ?? 4096, 'backlog', 1, 1_000_000);
  if (mode === 'cluster') {
    const cluster = new ClusterEchoServer({
      port,
      host: options.host,
      backlog,
      workers: checkInteger(options.workers ?? os.availableParallelism(), 'workers', 1, 1024),
      balance: checkChoice(options.balance ?? 'rr', 'balance', BALANCES),
      maxConnections: checkInteger(options.maxConnections ?? 10_000, 'maxConnections', 1, 10_000_000),
      idleTimeoutMs: checkInteger(options.idleTimeoutMs ?? 0, 'idleTimeoutMs', 0, 86_400_000),
      drainTimeoutMs: checkInteger(options.drainTimeoutMs ?? 5000, 'drainTimeoutMs', 0, 86_400_000),
    });
    await cluster.start();
    return cluster;
  }
  const server = new SingleProcessServer({
    mode,
    maxChildren: checkInteger(options.maxChildren ?? 64, 'maxChildren', 1, 100_000),
    spare: checkInteger(options.spare ?? 2, 'spare', 0, 100_000),
    drainTimeoutMs: checkInteger(options.drainTimeoutMs ?? 5000, 'drainTimeoutMs', 0, 86_400_000),
    idleTimeoutMs: checkInteger(options.idleTimeoutMs ?? 0, 'idleTimeoutMs', 0, 86_400_000),
    maxConnections: checkInteger(options.maxConnections ?? 10_000, 'maxConnections', 1, 10_000_000),
  });
  await server.listen(port, options.host, backlog);
  return server;
}
