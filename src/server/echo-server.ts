import { EventEmitter } from 'node:events';
import net from 'node:net';
import { AddressInUseError, ListenError, PermissionDeniedError, UsageError, systemCode } from '../errors.js';
import { DEFAULT_PORT, checkInteger, checkPort, formatAddress } from '../options.js';
import type { ConnectionClose, ConnectionHooks, ConnectionOpen, Dispatcher } from './connection-events.js';
import { EventDispatcher } from './event-mode.js';
import { ForkDispatcher } from './fork-mode.js';

/** How connections are served. */
export const SERVER_MODES = ['event', 'fork'] as const;
export type ServerMode = (typeof SERVER_MODES)[number];

export interface EchoServerOptions {
  /** Port to listen on; 0 picks a free one. @default 7007 */
  port?: number;
  /** Address to listen on. @default every interface, IPv4 and IPv6 */
  host?: string;
  /** `event`: one event loop serves every client; `fork`: a new process per client. @default 'event' */
  mode?: ServerMode;
  /** Fork mode: most child processes at once; later clients wait, unread, for a free one. @default 64 */
  maxChildren?: number;
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
  /** A failure that did not stop the server, such as `accept` hitting EMFILE. */
  warning: [error: Error];
}

/**
 * A listening echo server. Get one from {@link startEchoServer}.
 *
 * `close()` stops accepting and lets open connections finish up to `drainTimeoutMs`, then closes
 * the rest; `destroy()` closes everything now. Both are safe to call more than once.
 */
export class EchoServer extends EventEmitter<EchoServerEvents> {
  readonly mode: ServerMode;
  readonly #server: net.Server;
  readonly #dispatcher: Dispatcher;
  readonly #drainTimeoutMs: number;
  #nextId = 1;
  #closing: Promise<void> | undefined;

  /** @internal use {@link startEchoServer} */
  constructor(options: Required<Pick<EchoServerOptions, 'mode' | 'maxChildren' | 'drainTimeoutMs'>>) {
    super();
    this.mode = options.mode;
    this.#drainTimeoutMs = options.drainTimeoutMs;
    const hooks: ConnectionHooks = {
      open: (info) => this.emit('open', info),
      close: (info) => this.emit('close', info),
    };
    this.#dispatcher = options.mode === 'fork'
      ? new ForkDispatcher(hooks, { maxChildren: options.maxChildren })
      : new EventDispatcher(hooks);
    this.#server = net.createServer({
      allowHalfOpen: true,
      // In fork mode the parent must never read: whatever it read would never reach the child.
      pauseOnConnect: options.mode === 'fork',
      noDelay: true,
    });
    this.#server.on('connection', (socket) => this.#serverOnConnection(socket));
  }

  /** Where the server listens, with the real port when 0 was asked. */
  get address(): EchoServerAddress {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new ListenError('The server is not listening');
    return { host: address.address, port: address.port, family: address.family };
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

  /** Fork mode: the pids of the child processes alive now; empty in other modes. */
  get childPids(): number[] {
    return this.#dispatcher instanceof ForkDispatcher ? this.#dispatcher.childPids : [];
  }

  /** @internal */
  async listen(port: number, host: string | undefined, backlog: number): Promise<void> {
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('listening', onListening);
        reject(listenError(err, host, port));
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(host === undefined ? { port, backlog } : { port, host, backlog });
    });
    // After listening, an error is an accept failure (EMFILE, ENFILE, ...): libuv has already dealt
    // with the connection, and the server keeps serving. Unhandled, it would crash the process.
    server.on('error', (err) => this.emit('warning', err));
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
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#drainTimeoutMs);
    });
    try {
      await Promise.race([this.#dispatcher.idle(), deadline]);
    } finally {
      clearTimeout(timer);
    }
    this.#dispatcher.destroyAll();
    await this.#dispatcher.idle();
  }

  #serverOnConnection(socket: net.Socket): void {
    const { remoteAddress, remotePort } = socket;
    if (remoteAddress === undefined || remotePort === undefined) {
      // Reset before we got to it: nothing to serve.
      socket.on('error', () => {});
      socket.destroy();
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
  const server = new EchoServer({
    mode,
    maxChildren: checkInteger(options.maxChildren ?? 64, 'maxChildren', 1, 100_000),
    drainTimeoutMs: checkInteger(options.drainTimeoutMs ?? 5000, 'drainTimeoutMs', 0, 86_400_000),
  });
  await server.listen(port, options.host, backlog);
  return server;
}

function listenError(err: Error, host: string | undefined, port: number): Error {
  const where = host === undefined ? `port ${port}` : formatAddress(host, port);
  switch (systemCode(err)) {
    case 'EADDRINUSE':
      return new AddressInUseError(`Cannot listen on ${where}: address already in use (EADDRINUSE)`, { cause: err });
    case 'EACCES':
      return new PermissionDeniedError(
        `Cannot listen on ${where}: permission denied (EACCES); ports below 1024 need root or CAP_NET_BIND_SERVICE`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(`Cannot listen on ${where}: no such local address (EADDRNOTAVAIL)`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`Cannot listen on ${where}: unknown host \`${host ?? ''}\``, { cause: err });
    default:
      return new ListenError(`Cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}
