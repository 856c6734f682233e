import net from 'node:net';
import { connectError } from '../connect-errors.js';
import { ConnectTimeoutError } from '../errors.js';
import { DEFAULT_PORT, checkInteger, checkPort, formatAddress } from '../options.js';

export interface ConnectOptions {
  /** @default 'localhost' */
  host?: string;
  /** @default 7007 */
  port?: number;
  /** Give up when no connection is established within this time. @default 10000 */
  connectTimeoutMs?: number;
}

/**
 * Opens a TCP connection to an echo server and resolves once it is established, with
 * `allowHalfOpen` (so `end()` half-closes and the echo can still be read) and `noDelay` set.
 * Rejects with a `TcpechoError`: `TCPECHO_ERR_CONNECT_TIMEOUT` or `TCPECHO_ERR_CONNECT`.
 * The socket has an `'error'` listener attached; add your own.
 */
export function connectEcho(options: ConnectOptions = {}): Promise<net.Socket> {
  const host = options.host ?? 'localhost';
  const port = checkPort(options.port ?? DEFAULT_PORT);
  const timeoutMs = checkInteger(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs', 1, 86_400_000);
  const where = formatAddress(host, port);

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(socketOnTimeout, timeoutMs).unref();

    function socketOnConnect(): void {
      clearTimeout(timer);
      socket.off('error', socketOnConnectError);
      // Errors after this point belong to whoever uses the socket, but one must never go unheard.
      socket.on('error', () => {});
      resolve(socket);
    }

    function socketOnConnectError(err: Error): void {
      clearTimeout(timer);
      socket.off('connect', socketOnConnect);
      reject(connectError(err, host, where));
    }

    function socketOnTimeout(): void {
      socket.off('connect', socketOnConnect);
      socket.off('error', socketOnConnectError);
      socket.on('error', () => {});
      socket.destroy();
      reject(new ConnectTimeoutError(`No connection to ${where} within ${timeoutMs} ms`));
    }

    socket.once('connect', socketOnConnect);
    socket.once('error', socketOnConnectError);
  });
}
