import net from 'node:net';
import { connectError, connectTimeoutError } from '../connect-errors.js';
import { AbortError } from '../errors.js';
import { checkFamily, checkInteger, checkPort, formatAddress } from '../options/values.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../options/table.js';
import { checkUnixPath, nodeUnixPath, unixUrl } from '../unix-path.js';

export interface ConnectOptions {
  /** @default '127.0.0.1' (the same default host as the CLI's client and bench) */
  host?: string;
  /** @default 7007 */
  port?: number;
  /** Only addresses of this IP version (nc's `-4` / `-6`). @default both */
  family?: 4 | 6;
  /**
   * Connect to this Unix domain socket instead of TCP (`host`, `port` and `family` are then
   * unused); `@NAME` is a Linux abstract name. @default none (TCP)
   */
  unix?: string;
  /** Give up when no connection is established within this time, name lookup included. @default 10000 */
  timeoutMs?: number;
  /** Aborting it gives up on the connection: rejects with `TCPECHO_ERR_ABORTED`. */
  signal?: AbortSignal;
}

const CONNECT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 86_400_000;

/**
 * Opens a TCP connection (or one over a Unix socket, with `unix`) to an echo server and resolves once it is established, with
 * `allowHalfOpen` (so `end()` half-closes and the echo can still be read) and `noDelay` set.
 * Rejects with a `TcpechoError`: `TCPECHO_ERR_CONNECT_TIMEOUT`, `TCPECHO_ERR_CONNECT`,
 * `TCPECHO_ERR_ABORTED`, or `TCPECHO_ERR_USAGE` for invalid options.
 *
 * As with `net.connect`, errors after the connection is established are emitted on the socket:
 * attach an `'error'` listener as soon as this resolves, before any I/O, or an error (a reset by
 * the server) is thrown as an uncaught exception.
 */
export function connectEcho(options: ConnectOptions = {}): Promise<net.Socket> {
  return connectEchoObserved(options, () => {});
}

/**
 * `connectEcho`, handing the socket to `observe` before it connects (the CLI's `--verbose` listens
 * for its `'lookup'`). Internal: not exported from the package.
 */
export async function connectEchoObserved(options: ConnectOptions, observe: (socket: net.Socket) => void): Promise<net.Socket> {
  const host = options.host ?? DEFAULT_HOST;
  const port = checkPort(options.port ?? DEFAULT_PORT);
  const family = checkFamily(options.family, host);
  const timeoutMs = checkInteger(options.timeoutMs ?? CONNECT_TIMEOUT_MS, 'timeoutMs', 1, MAX_TIMEOUT_MS);
  const { signal } = options;
  const unix = options.unix === undefined ? undefined : checkUnixPath(options.unix, 'unix');
  const where = unix === undefined ? formatAddress(host, port) : unixUrl(unix);
  if (signal?.aborted) throw new AbortError(`Connecting to ${where} was aborted`, { cause: signal.reason });

  return new Promise((resolve, reject) => {
    const target = unix !== undefined ? { path: nodeUnixPath(unix) } : { host, port, ...(family === undefined ? {} : { family }) };
    const socket = net.connect({ ...target, allowHalfOpen: true, noDelay: true });
    observe(socket);
    const timer = setTimeout(timerOnTimeout, timeoutMs).unref();

    function cleanup(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', signalOnAbort);
      socket.off('connect', socketOnConnect);
      socket.off('error', socketOnConnectError);
    }

    function socketOnConnect(): void {
      cleanup();
      resolve(socket);
    }

    function socketOnConnectError(err: Error): void {
      cleanup();
      reject(connectError(err, host, where, family));
    }

    function giveUp(err: Error): void {
      cleanup();
      // This socket is never handed out, so nobody else would hear an error it still emits.
      socket.on('error', () => {});
      socket.destroy();
      reject(err);
    }

    function timerOnTimeout(): void {
      giveUp(connectTimeoutError(where, timeoutMs));
    }

    function signalOnAbort(): void {
      giveUp(new AbortError(`Connecting to ${where} was aborted`, { cause: signal?.reason }));
    }

    socket.once('connect', socketOnConnect);
    socket.once('error', socketOnConnectError);
    signal?.addEventListener('abort', signalOnAbort, { once: true });
  });
}
