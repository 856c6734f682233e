import net from 'node:net';
import tls from 'node:tls';
import { connectError } from '../connect-errors.js';
import type { TcpechoError } from '../errors.js';
import { checkPeer, handshakeError, tlsConnect, type TlsSettings } from '../client/tls.js';
import { connectTarget, type LoadContext } from './verified-connection.js';

/** Where a connection's reads go when they bypass the stream machinery (`onread`). */
export interface ReadTarget {
  buffer: Buffer;
  callback: (n: number, buffer: Uint8Array) => boolean;
}

/**
 * Opens one load connection: `net.connect` for plain TCP (unchanged: the fast path), or
 * `tls.connect` with the run's TLS settings, a session to resume given; to `ctx`'s host and port or
 * its Unix socket. Either way reads go to
 * `onread` when given. Listen for `readyEvent(ctx)` to know it is usable.
 */
export function openSocket(ctx: LoadContext, onread: ReadTarget | undefined, session?: Buffer): net.Socket {
  const options = {
    ...connectTarget(ctx),
    noDelay: true,
    allowHalfOpen: true,
    ...(onread === undefined ? {} : { onread }),
  };
  if (ctx.tls === undefined) return net.connect(options);
  return tlsConnect(session === undefined ? options : { ...options, session }, ctx.tls);
}

/** The event after which a connection may carry data: TCP's `connect`, or TLS's `secureConnect`. */
export function readyEvent(ctx: LoadContext): 'connect' | 'secureConnect' {
  return ctx.tls === undefined ? 'connect' : 'secureConnect';
}

/**
 * Why a connection that is ready may not be used: the pinned fingerprint does not match.
 * Undefined for plain TCP, and when it may.
 */
export function refusal(ctx: LoadContext, socket: net.Socket): TcpechoError | undefined {
  return ctx.tls === undefined ? undefined : checkPeer(socket as tls.TLSSocket, ctx.tls, ctx.where);
}

/**
 * A failure before the connection was ready, in the client's words: TCP's (refused, unknown
 * host) before `tcpConnected`, the handshake's (a refused certificate, an alert) after.
 */
export function connectFailure(ctx: LoadContext, socket: net.Socket, err: Error, tcpConnected: boolean): TcpechoError {
  if (ctx.tls !== undefined && tcpConnected) return handshakeError(err, ctx.where, socket as tls.TLSSocket);
  return connectError(err, ctx.host, ctx.where);
}

export type { TlsSettings };
