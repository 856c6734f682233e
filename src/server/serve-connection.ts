import type net from 'node:net';
import { echoConnection, type EchoResult } from './echo-connection.js';
import type { EchoContext } from './echo-context.js';
import type { EchoSettings } from './echo-settings.js';
import { HexdumpTap } from '../hexdump.js';
import type { TlsAcceptor } from './tls/tls-acceptor.js';

/** One process's way of serving connections: its echo state, its settings, its TLS acceptor. */
export interface ConnectionServing {
  context: EchoContext;
  settings: EchoSettings;
  /** Made once per process from `settings.tls`. */
  tls: TlsAcceptor | undefined;
}

/**
 * A process's serving, once: with TLS, the acceptor and its secure context. The TLS modules load
 * only then, so that a plain fork child does not pay for them at every start.
 */
export async function connectionServing(context: EchoContext, settings: EchoSettings): Promise<ConnectionServing> {
  context.faults = settings.faults;
  if (settings.tls === undefined) return { context, settings, tls: undefined };
  const { TlsAcceptor } = await import('./tls/tls-acceptor.js');
  return { context, settings, tls: new TlsAcceptor(settings.tls, settings.handshakeTimeoutMs) };
}

/** A connection being served: `destroy()` ends it whatever stage it is in. */
export interface ServedConnection {
  destroy(): void;
}

/**
 * Serves one accepted connection through its stages, in the process that echoes: the TLS
 * handshake when there is TLS, then the echo. `done` is called once, when the connection has
 * closed, with what it did: a handshake that failed is reason `tls-error` with the code that says
 * why, and nothing of that connection was echoed. `id` is the connection's, as its events say:
 * with `hexdump` the dump of what it sends and receives (after TLS: the plain text) is headed by it.
 */
export function serveConnection(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, id = 0): ServedConnection {
  const acceptDelayMs = serving.context.faults?.acceptDelayMs ?? 0;
  if (acceptDelayMs > 0) return delayed(socket, serving, done, acceptDelayMs, id);
  return serveNow(socket, serving, done, id);
}

/** `acceptDelayMs`: the connection waits, unread, before its stages start. */
function delayed(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, delayMs: number, id: number): ServedConnection {
  const startedAt = performance.now();
  let served: ServedConnection | undefined;
  socket.on('error', () => {});
  const timer = setTimeout(() => {
    socket.off('close', socketOnClose);
    served = serveNow(socket, serving, done, id);
  }, delayMs);
  const socketOnClose = (): void => {
    clearTimeout(timer);
    done({ bytesRead: 0, bytesWritten: 0, durationMs: performance.now() - startedAt, reason: 'aborted', faults: ['accept-delay'] });
  };
  socket.once('close', socketOnClose);
  return { destroy: () => (served === undefined ? socket.destroy() : served.destroy()) };
}

function serveNow(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, id: number): ServedConnection {
  const { context, settings, tls } = serving;
  const dump = settings.hexdump ? new HexdumpTap(`#${id} `) : undefined;
  if (tls === undefined) return echoConnection(socket, context, done, settings.idleTimeoutMs, dump);
  const startedAt = performance.now();
  let current: net.Socket = socket;
  let reported = false;
  const report = (result: EchoResult): void => {
    if (reported) return;
    reported = true;
    socket.off('close', rawOnClose);
    done(result);
  };
  const failure = (code: string): EchoResult => ({ bytesRead: 0, bytesWritten: 0, durationMs: performance.now() - startedAt, reason: 'tls-error', errorCode: code });
  // Until the handshake is over the raw socket is what can close: a client that leaves in the
  // middle, or destroy() on shutdown.
  const rawOnClose = (): void => report(failure('closed-during-handshake'));
  socket.on('error', () => {});
  socket.on('close', rawOnClose);
  tls.accept(
    socket,
    (secure, details) => {
      socket.off('close', rawOnClose);
      current = echoConnection(secure, context, (result) => {
        result.tls = details;
        report(result);
      }, settings.idleTimeoutMs, dump);
    },
    (code) => report(failure(code)),
  );
  return { destroy: () => current.destroy() };
}
