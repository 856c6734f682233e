// A plain Node TLS echo server for the client's and the bench's TLS tests, independent of tcpecho's
// own server: `tls.createServer` piping each connection to itself, half-open allowed.
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { TestContext } from 'node:test';
import type { PemPair } from '../../src/server/tls/certificate.js';
import { within } from './timeout.js';

export interface TlsEcho {
  port: number;
  server: tls.Server;
  /** The codes of failed handshakes the server saw (`tlsClientError`). */
  clientErrors: string[];
  /** Subjects (CN) of the client certificates of the connections served. */
  clientSubjects: string[];
}

/**
 * A TLS echo on 127.0.0.1 and a free port serving `pair`; `options` adds to tls.createServer's
 * (`{ ca, requestCert, rejectUnauthorized }` for mutual TLS). `onConnection` replaces the echo.
 * Closed, with every connection, when the test ends.
 */
export async function startTlsEcho(t: TestContext, pair: PemPair, options: tls.TlsOptions = {}, onConnection?: (socket: tls.TLSSocket) => void): Promise<TlsEcho> {
  const clientErrors: string[] = [];
  const clientSubjects: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: pair.cert, key: pair.key, allowHalfOpen: true, ...options }, (socket) => {
    socket.on('error', () => {});
    const subject = socket.getPeerCertificate().subject?.CN;
    if (subject !== undefined) clientSubjects.push(String(subject));
    if (onConnection === undefined) socket.pipe(socket);
    else onConnection(socket);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (err: Error & { code?: string }) => clientErrors.push(err.code ?? err.message));
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), 5000, 'TLS echo listening');
  t.after(() => {
    server.close();
    for (const socket of sockets) socket.destroy();
  });
  return { port: (server.address() as net.AddressInfo).port, server, clientErrors, clientSubjects };
}
