import type net from 'node:net';
import { echoConnection, type EchoResult } from './echo-connection.js';
import type { EchoContext } from './echo-context.js';
import type { EchoSettings } from './echo-settings.js';
import { HexdumpTap } from '../hexdump.js';
import type { TlsAcceptor } from './tls/tls-acceptor.js';
import { AddressRules } from './address-rules.js';
import { ProxyHeaderParser, type ProxyHeader } from './proxy-protocol.js';
import { UNIX_PEER_ADDRESS } from '../unix-path.js';
import type { ProxiedPeer } from './connection-events.js';

/** One process's way of serving connections: its echo state, its settings, its TLS acceptor. */
export interface ConnectionServing {
  context: EchoContext;
  settings: EchoSettings;
  /** Made once per process from `settings.tls`. */
  tls: TlsAcceptor | undefined;
  /** With the PROXY protocol: `allow`/`deny`, matched against the header's client address. */
  rules?: AddressRules | undefined;
}

/**
 * A process's serving, once: with TLS, the acceptor and its secure context. The TLS modules load
 * only then, so that a plain fork child does not pay for them at every start.
 */
export async function connectionServing(context: EchoContext, settings: EchoSettings): Promise<ConnectionServing> {
  context.faults = settings.faults;
  const rules = settings.proxyProtocol === true ? AddressRules.from(settings.allow, settings.deny) : undefined;
  if (settings.tls === undefined) return { context, settings, tls: undefined, rules };
  const { TlsAcceptor } = await import('./tls/tls-acceptor.js');
  return { context, settings, tls: new TlsAcceptor(settings.tls, settings.handshakeTimeoutMs), rules };
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
 * With the PROXY protocol, `proxied` is called once the header has been read and its client
 * address admitted, with the addresses it carried (before `done`, and never for a connection
 * whose header failed).
 */
export function serveConnection(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, id = 0, proxied?: (peer: ProxiedPeer) => void): ServedConnection {
  const acceptDelayMs = serving.context.faults?.acceptDelayMs ?? 0;
  if (acceptDelayMs > 0) return delayed(socket, serving, done, acceptDelayMs, id, proxied);
  return serveNow(socket, serving, done, id, proxied);
}

type Proxied = ((peer: ProxiedPeer) => void) | undefined;

/** `acceptDelayMs`: the connection waits, unread, before its stages start. */
function delayed(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, delayMs: number, id: number, proxied: Proxied): ServedConnection {
  const startedAt = performance.now();
  let served: ServedConnection | undefined;
  socket.on('error', () => {});
  const timer = setTimeout(() => {
    socket.off('close', socketOnClose);
    served = serveNow(socket, serving, done, id, proxied);
  }, delayMs);
  const socketOnClose = (): void => {
    clearTimeout(timer);
    done({ bytesRead: 0, bytesWritten: 0, durationMs: performance.now() - startedAt, reason: 'aborted', faults: ['accept-delay'] });
  };
  socket.once('close', socketOnClose);
  return { destroy: () => (served === undefined ? socket.destroy() : served.destroy()) };
}

function serveNow(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, id: number, proxied: Proxied): ServedConnection {
  if (serving.settings.proxyProtocol === true) return afterProxyHeader(socket, serving, done, id, proxied);
  return serveStages(socket, serving, done, id);
}

/**
 * The PROXY protocol stage, before TLS and the echo: the header is read (`'data'` events, the
 * socket then paused), the bytes after it are put back with `unshift()`, and the socket goes on to
 * the next stages, which therefore read it the stream way (adoption needs an unread socket). The
 * header is never echoed. A bad, truncated or late header (past `handshakeTimeoutMs`) closes the
 * connection: reason `proxy-error`, `errorCode` what was wrong. With `allow`/`deny` the client
 * address of the header is matched: refused, reason `denied`.
 */
function afterProxyHeader(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, id: number, proxied: Proxied): ServedConnection {
  const startedAt = performance.now();
  const parser = new ProxyHeaderParser();
  let served: ServedConnection | undefined;
  let settled = false;
  let aborted = false;
  const peerAddress = socket.remoteAddress ?? UNIX_PEER_ADDRESS;
  const peerPort = socket.remotePort ?? 0;
  const stop = (): void => {
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onClose);
  };
  const fail = (reason: 'proxy-error' | 'denied' | 'aborted', what: string | undefined, header?: ProxyHeader): void => {
    if (settled) return;
    stop();
    socket.destroy();
    const result: EchoResult = { bytesRead: socket.bytesRead, bytesWritten: 0, durationMs: performance.now() - startedAt, reason };
    if (what !== undefined) result.errorCode = what;
    if (header !== undefined) addAddresses(result, header, peerAddress, peerPort);
    done(result);
  };
  const onData = (chunk: Buffer): void => {
    const parsed = parser.push(chunk);
    if (parsed.state === 'more') return;
    if (parsed.state === 'error') return fail('proxy-error', parsed.what);
    const { header, rest } = parsed;
    const client = header.command === 'proxy' ? (header.remoteAddress as string) : peerAddress;
    if (serving.rules !== undefined && !serving.rules.allows(client)) return fail('denied', undefined, header);
    stop();
    socket.pause();
    const headerBytes = socket.bytesRead - socket.readableLength - rest.length;
    if (rest.length > 0) socket.unshift(rest);
    proxied?.(peerOf(header, peerAddress, peerPort));
    served = serveStages(socket, serving, (result) => {
      addAddresses(result, header, peerAddress, peerPort);
      // The header is not the client's data: bytes are what was echoed and what came after it.
      if (serving.tls === undefined) result.bytesRead = Math.max(0, result.bytesRead - headerBytes);
      done(result);
    }, id);
  };
  const onEnd = (): void => fail('proxy-error', socket.bytesRead === 0 ? 'no header' : 'truncated header');
  const onClose = (): void => fail(aborted ? 'aborted' : 'proxy-error', aborted ? undefined : 'closed during header');
  const timer = setTimeout(() => fail('proxy-error', 'header timeout'), serving.settings.handshakeTimeoutMs);
  socket.on('error', () => {});
  socket.allowHalfOpen = true;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  socket.resume();
  return {
    destroy: () => {
      if (served !== undefined) return served.destroy();
      aborted = true;
      socket.destroy();
    },
  };
}

/** The header's client address (a LOCAL header: the balancer's own), and the balancer's. */
function peerOf(header: ProxyHeader, peerAddress: string, peerPort: number): ProxiedPeer {
  const local = header.command !== 'proxy';
  return {
    remoteAddress: local ? peerAddress : (header.remoteAddress as string),
    remotePort: local ? peerPort : (header.remotePort as number),
    proxyAddress: peerAddress,
    proxyPort: peerPort,
  };
}

/** The addresses of peerOf on the record, and the v2 header's ALPN and authority. */
function addAddresses(result: EchoResult, header: ProxyHeader, peerAddress: string, peerPort: number): void {
  Object.assign(result, peerOf(header, peerAddress, peerPort));
  if (header.alpn !== undefined) result.proxyAlpn = header.alpn;
  if (header.authority !== undefined) result.proxyAuthority = header.authority;
}

/** TLS when there is TLS, then the echo. */
function serveStages(socket: net.Socket, serving: ConnectionServing, done: (result: EchoResult) => void, id: number): ServedConnection {
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
