import net from 'node:net';
import tls from 'node:tls';
import { connectError, connectTimeoutError } from '../connect-errors.js';
import { AbortError } from '../errors.js';
import { checkFamily, checkInteger, checkPort, formatAddress } from '../options/values.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../options/table.js';
import { checkPeer, handshakeError, tlsConnect, tlsSettings, type TlsClientOptions } from './tls.js';
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
  /**
   * Give up when no connection is established within this time, name lookup (and with `tls` the
   * handshake) included. @default 10000
   */
  timeoutMs?: number;
  /**
   * TLS over the connection: `true` verifies the server's certificate against the system's CAs
   * and its name against `host`, as Node does; an object says otherwise (`ca`, `fingerprint`,
   * `insecure`, `servername`, and `cert`/`key` for mutual TLS). The promise then resolves with a
   * `tls.TLSSocket` once the handshake is done and the certificate accepted; a refused certificate
   * rejects with `TCPECHO_ERR_TLS_VERIFY`, any other handshake failure with
   * `TCPECHO_ERR_TLS_HANDSHAKE`. `end()` sends TLS close_notify, then FIN. @default false
   */
  tls?: boolean | TlsClientOptions;
  /** Aborting it gives up on the connection: rejects with `TCPECHO_ERR_ABORTED`. */
  signal?: AbortSignal;
}

const CONNECT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 86_400_000;

/**
 * Opens a TCP connection (or one over a Unix socket, with `unix`) to an echo server and resolves once it is established, with
 * `allowHalfOpen` (so `end()` half-closes and the echo can still be read) and `noDelay` set.
 * Rejects with a `TcpechoError`: `TCPECHO_ERR_CONNECT_TIMEOUT`, `TCPECHO_ERR_CONNECT`,
 * `TCPECHO_ERR_ABORTED`, with `tls` `TCPECHO_ERR_TLS_VERIFY` or `TCPECHO_ERR_TLS_HANDSHAKE`, or
 * `TCPECHO_ERR_USAGE` for invalid options.
 *
 * As with `net.connect`, errors after the connection is established are emitted on the socket:
 * attach an `'error'` listener as soon as this resolves, before any I/O, or an error (a reset by
 * the server) is thrown as an uncaught exception.
 */
export function connectEcho(options: ConnectOptions & { tls: true | TlsClientOptions }): Promise<tls.TLSSocket>;
export function connectEcho(options?: ConnectOptions): Promise<net.Socket>;
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
  const tlsOptions = options.tls === undefined || options.tls === false ? undefined : tlsSettings(options.tls);
  if (signal?.aborted) throw new AbortError(`Connecting to ${where} was aborted`, { cause: signal.reason });

  return new Promise((resolve, reject) => {
    const target = unix !== undefined ? { path: nodeUnixPath(unix) } : { host, port, ...(family === undefined ? {} : { family }) };
    const socketOptions = { ...target, allowHalfOpen: true, noDelay: true };
    const socket = tlsOptions === undefined ? net.connect(socketOptions) : tlsConnect(socketOptions, tlsOptions);
    // With TLS, 'connect' is TCP's; the connection is ready at 'secureConnect'.
    const ready = tlsOptions === undefined ? 'connect' : 'secureConnect';
    let tcpConnected = false;
    observe(socket);
    const timer = setTimeout(timerOnTimeout, timeoutMs).unref();

    function cleanup(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', signalOnAbort);
      socket.off('connect', socketOnTcpConnect);
      socket.off(ready, socketOnConnect);
      socket.off('error', socketOnConnectError);
    }

    function socketOnTcpConnect(): void {
      tcpConnected = true;
    }

    function socketOnConnect(): void {
      const refused = tlsOptions === undefined ? undefined : checkPeer(socket as tls.TLSSocket, tlsOptions, where);
      if (refused !== undefined) return giveUp(refused);
      cleanup();
      resolve(socket);
    }

    function socketOnConnectError(err: Error): void {
      cleanup();
      reject(tlsOptions !== undefined && tcpConnected ? handshakeError(err, where, socket as tls.TLSSocket) : connectError(err, host, where, family));
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

    socket.once('connect', socketOnTcpConnect);
    socket.once(ready, socketOnConnect);
    socket.once('error', socketOnConnectError);
    signal?.addEventListener('abort', signalOnAbort, { once: true });
  });
}
