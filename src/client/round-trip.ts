import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { AbortError, ConnectionError, EchoTimeoutError, EchoTooLongError, systemCode } from '../errors.js';
import { halfClose } from '../half-close.js';
import { checkInteger } from '../options/values.js';
import { connectEcho, type ConnectOptions } from './connect.js';
import { tlsFailure } from './tls.js';

export interface EchoOptions {
  /** Deadline for the whole echo: rejects with `TCPECHO_ERR_ECHO_TIMEOUT` when it has not ended. @default 30000 */
  timeoutMs?: number;
  /** Aborting it gives up: rejects with `TCPECHO_ERR_ABORTED`. */
  signal?: AbortSignal;
  /**
   * The most bytes kept: past it the peer is not echoing (it sends more than it was sent), and the
   * socket is destroyed with `TCPECHO_ERR_ECHO_TOO_LONG`. @default data.length + 1 MiB
   */
  maxBytes?: number;
}

export interface RoundTripOptions extends ConnectOptions {
  /**
   * Deadline for the whole round trip, connecting included: `TCPECHO_ERR_CONNECT_TIMEOUT` when it
   * passes while connecting, `TCPECHO_ERR_ECHO_TIMEOUT` after. @default 30000
   */
  timeoutMs?: number;
}

const ECHO_TIMEOUT_MS = 30_000;
const MAX_TIMEOUT_MS = 86_400_000;
/** What collectEcho keeps past the bytes it sent, by default: room for a peer that adds a little. */
const SLACK_BYTES = 1024 * 1024;

/**
 * Sends `data` over a new connection, half-closes, and resolves with everything the server sent
 * back once it has closed its side. For tests of anything that speaks echo. The connection is
 * closed when this settles.
 */
export async function echoRoundTrip(data: Uint8Array, options: RoundTripOptions = {}): Promise<Buffer> {
  const timeoutMs = checkInteger(options.timeoutMs ?? ECHO_TIMEOUT_MS, 'timeoutMs', 1, MAX_TIMEOUT_MS);
  const deadline = performance.now() + timeoutMs;
  const socket = await connectEcho({ ...options, timeoutMs });
  try {
    // The echo gets what is left of the one deadline; at least 1 ms, so an exhausted deadline
    // still ends as a timeout rather than as an invalid option.
    const left = Math.max(1, Math.floor(deadline - performance.now()));
    return await collectEcho(socket, data, { timeoutMs: left, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  } finally {
    socket.destroy();
  }
}

/**
 * Writes `data`, half-closes, and resolves with all that comes back before the peer's FIN.
 * Rejects with `TCPECHO_ERR_CONNECTION` when the connection fails or closes before the FIN,
 * `TCPECHO_ERR_ECHO_TIMEOUT` or `TCPECHO_ERR_ABORTED`; on timeout and abort the socket is
 * destroyed. Its `'error'` listener stays until the socket closes, so a late error is heard.
 */
export function collectEcho(socket: net.Socket, data: Uint8Array, options: EchoOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timeoutMs = checkInteger(options.timeoutMs ?? ECHO_TIMEOUT_MS, 'timeoutMs', 1, MAX_TIMEOUT_MS);
    const { signal } = options;
    const maxBytes = checkInteger(options.maxBytes ?? data.length + SLACK_BYTES, 'maxBytes', 0, Number.MAX_SAFE_INTEGER);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;

    function settle(err: Error | undefined): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', signalOnAbort);
      socket.off('data', socketOnData);
      socket.off('end', socketOnEnd);
      if (err === undefined) resolve(Buffer.concat(chunks));
      else reject(err);
    }

    function socketOnData(chunk: Buffer): void {
      received += chunk.length;
      if (received > maxBytes) {
        settle(new EchoTooLongError(`The peer sent more than ${maxBytes} bytes back for ${data.length} sent`));
        socket.destroy();
        return;
      }
      chunks.push(chunk);
    }

    function socketOnEnd(): void {
      settle(undefined);
    }

    function socketOnError(err: Error): void {
      settle(tlsFailure(err) ?? new ConnectionError(`Connection failed: ${systemCode(err) ?? err.message}`, { cause: err }));
    }

    function socketOnClose(): void {
      socket.off('error', socketOnError);
      settle(new ConnectionError(`The connection closed before the echo ended (${received} of ${data.length} bytes back)`));
    }

    function timerOnTimeout(): void {
      settle(new EchoTimeoutError(`No complete echo within ${timeoutMs} ms (${received} of ${data.length} bytes back)`));
      socket.destroy();
    }

    function signalOnAbort(): void {
      settle(new AbortError(`The echo was aborted (${received} of ${data.length} bytes back)`, { cause: signal?.reason }));
      socket.destroy();
    }

    const timer = setTimeout(timerOnTimeout, timeoutMs).unref();
    socket.on('error', socketOnError);
    socket.once('close', socketOnClose);
    if (signal?.aborted) return signalOnAbort();
    signal?.addEventListener('abort', signalOnAbort, { once: true });
    socket.on('data', socketOnData);
    socket.once('end', socketOnEnd);
    socket.write(data);
    halfClose(socket);
  });
}
