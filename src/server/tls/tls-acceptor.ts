import type net from 'node:net';
import tls from 'node:tls';
import type { TlsSettings } from './server-tls.js';

/** What a completed handshake gave, for the connection's close record. */
export interface TlsDetails {
  /** `TLSv1.3`, ... */
  protocol: string;
  /** The OpenSSL name of the cipher. */
  cipher: string;
  /** The ALPN protocol negotiated, when one was. */
  alpn?: string;
  /** The client certificate's subject (`CN=...`), when it sent one. */
  clientSubject?: string;
}

/** Why a handshake failed: Node's or OpenSSL's code (`ERR_SSL_HTTP_REQUEST`, `ERR_TLS_HANDSHAKE_TIMEOUT`, ...). */
export type TlsFailure = (code: string) => void;
export type TlsReady = (socket: tls.TLSSocket, details: TlsDetails) => void;

interface Pending {
  ready: TlsReady;
  failed: TlsFailure;
  settled: boolean;
}

const kPending = Symbol('tcpecho.tlsPending');
type RawSocket = net.Socket & { [kPending]?: Pending };

/**
 * The TLS handshake stage, in whichever process echoes (the event process, a fork child, a cluster
 * worker): the process that accepts never reads, so a fork parent still hands over an untouched
 * socket. One `tls.Server` per process, never listening, is fed each accepted socket: it holds the
 * secure context (parsing a certificate costs milliseconds, far too much per connection) and does
 * what Node's TLS server does, including the handshake timeout. A failed handshake (a plain-text
 * client, a missing or untrusted client certificate, a timeout) ends that connection alone.
 *
 * Node internal relied on: a server-side `TLSSocket` keeps the socket it wraps as `_parent`; that
 * is how a `secureConnection` is matched to its accepted socket. Were it gone, no TLS connection
 * would reach the echo, and every TLS test would fail at once.
 */
export class TlsAcceptor {
  readonly #server: tls.Server;
  readonly #clientCert: TlsSettings['clientCert'];

  constructor(settings: TlsSettings, handshakeTimeoutMs: number) {
    this.#clientCert = settings.clientCert;
    const options: tls.TlsOptions = {
      ...secureContextOptions(settings),
      handshakeTimeout: handshakeTimeoutMs,
      // A client certificate is asked for but checked here, after the handshake, so that every
      // refusal is reported with its reason; Node's own rejectUnauthorized would end an untrusted
      // one silently.
      requestCert: settings.clientCert !== undefined,
      rejectUnauthorized: false,
      ticketKeys: Buffer.from(settings.ticketKeys, 'base64'),
    };
    if (settings.alpn !== undefined) options.ALPNProtocols = settings.alpn;
    this.#server = tls.createServer(options);
    this.#server.on('secureConnection', (socket) => this.#serverOnSecure(socket));
    this.#server.on('tlsClientError', (err, socket) => this.#serverOnTlsError(err, socket));
  }

  /**
   * Starts the handshake on `socket` (accepted, half-open capable, not read yet). Exactly one of
   * `ready` and `failed` is called, unless the socket closes first (the caller's 'close' listener
   * on `socket` sees that).
   */
  accept(socket: net.Socket, ready: TlsReady, failed: TlsFailure): void {
    (socket as RawSocket)[kPending] = { ready, failed, settled: false };
    // Sockets received over IPC are created with allowHalfOpen false; the TLS socket takes it from
    // the one it wraps.
    socket.allowHalfOpen = true;
    this.#server.emit('connection', socket);
  }

  #serverOnSecure(socket: tls.TLSSocket): void {
    const pending = take(socket);
    if (pending === undefined) return void socket.destroy();
    const certificate = this.#clientCert === undefined ? undefined : socket.getPeerCertificate();
    const hasCertificate = certificate !== undefined && Object.keys(certificate).length > 0;
    if (this.#clientCert === 'require' && !socket.authorized) {
      socket.on('error', () => {});
      socket.destroy();
      return pending.failed(hasCertificate ? String(socket.authorizationError ?? 'CERT_UNTRUSTED') : 'NO_CLIENT_CERT');
    }
    const cipher = socket.getCipher();
    const details: TlsDetails = { protocol: socket.getProtocol() ?? 'unknown', cipher: cipher.name };
    if (typeof socket.alpnProtocol === 'string') details.alpn = socket.alpnProtocol;
    if (hasCertificate) details.clientSubject = subjectText(certificate.subject);
    pending.ready(socket, details);
  }

  #serverOnTlsError(err: Error, socket: tls.TLSSocket): void {
    socket.destroy();
    const pending = take(socket);
    pending?.failed((err as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
  }
}

function take(socket: tls.TLSSocket): Pending | undefined {
  const raw = (socket as unknown as { _parent?: RawSocket })._parent;
  const pending = raw?.[kPending];
  if (pending === undefined || pending.settled) return undefined;
  pending.settled = true;
  return pending;
}

/** `CN=alice,O=Example`: the certificate subject's fields in order. */
function subjectText(subject: tls.Certificate | undefined): string {
  if (subject === undefined) return '';
  return Object.entries(subject).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`).join(',');
}

/** The options of a TLS server for these settings: for the start-up check and every echoing process. */
export function secureContextOptions(settings: TlsSettings): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = { cert: settings.cert, key: settings.key, minVersion: settings.minVersion };
  if (settings.ca !== undefined) options.ca = settings.ca;
  return options;
}
