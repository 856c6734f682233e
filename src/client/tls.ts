import net from 'node:net';
import tls from 'node:tls';
import { ConnectionError, TlsConfigError, TlsHandshakeError, TlsVerifyError, UsageError, systemCode, type TcpechoError } from '../errors.js';

// The client side of TLS, shared by connectEcho (and so the CLI client) and the load generator:
// the options checked once, the tls.connect options made from them, the checks Node does not do
// (a pinned fingerprint), and every verification or handshake failure in one line of our words.

/** A PEM text (string or Buffer), or several. */
export type Pem = string | Buffer | Array<string | Buffer>;

/** How a client speaks TLS. `tls: true` is `{}`: verified against the system's CAs, as Node does. */
export interface TlsClientOptions {
  /**
   * CA certificates (PEM) the server's certificate must chain to, instead of the system's.
   * @default Node's bundled and system CAs
   */
  ca?: Pem;
  /** The client certificate (PEM), for mutual TLS; needs `key`. */
  cert?: string | Buffer;
  /** The private key (PEM) of `cert`. */
  key?: string | Buffer;
  /**
   * The name sent in SNI and checked against the certificate's names. @default the host (no SNI
   * when the host is an IP address, as Node does)
   */
  servername?: string;
  /**
   * Accept the server's certificate only if its SHA-256 fingerprint is this (64 hex digits,
   * colons optional, any case: `AB:CD:...` as `openssl x509 -fingerprint -sha256` prints it).
   * Alone, the pin replaces the CA and hostname checks (it names one certificate, self-signed
   * ones included); with `ca`, both must hold.
   */
  fingerprint?: string;
  /** Do not verify the server's certificate at all. Not with `ca` or `fingerprint`. @default false */
  insecure?: boolean;
}

/** The TLS settings of one client, checked: what tls.connect takes, and the pin to check after it. */
export interface TlsSettings {
  /** Passed to tls.connect beside host, port and the socket options. */
  connect: tls.ConnectionOptions;
  /** The pinned fingerprint as Node prints it (`AB:CD:...`), if any. */
  fingerprint: string | undefined;
  /** What the certificate was checked against, for `-v`. */
  verifiedBy: 'system CAs' | 'ca' | 'fingerprint' | 'ca and fingerprint' | 'nothing (insecure)';
}

/**
 * `tls` checked, naming `tls.KEY` (or what `nameOf` calls it): a `UsageError` for a malformed
 * option, a `TlsConfigError` for PEM material that cannot be used. The PEM material is loaded
 * into one secure context here, so that a bad certificate, or a key that does not match, is found
 * before any connection, and each connection does not parse it again.
 */
export function tlsSettings(options: true | TlsClientOptions, nameOf?: (key: keyof TlsClientOptions) => string): TlsSettings {
  const o: TlsClientOptions = options === true ? {} : options;
  if (typeof o !== 'object' || o === null) throw new UsageError(`Expected \`tls\` to be true or an object, got \`${String(options)}\``);
  const name = nameOf ?? ((key: keyof TlsClientOptions): string => `tls.${key}`);
  for (const key of ['cert', 'key'] as const) {
    const value = o[key];
    // Never quoted: it may be a private key.
    if (value !== undefined && !isPem(value)) throw new TlsConfigError(`Expected \`${name(key)}\` to be PEM text (a string or a Buffer with a \`-----BEGIN\` line)`);
  }
  // Node skips what is not a certificate in `ca` without a word: every server would be refused.
  const isCa = (one: unknown): boolean => isPem(one) && String(one).includes('-----BEGIN CERTIFICATE-----');
  if (o.ca !== undefined && !(Array.isArray(o.ca) ? o.ca.length > 0 && o.ca.every(isCa) : isCa(o.ca))) {
    throw new TlsConfigError(`Expected \`${name('ca')}\` to be PEM certificates (a string or a Buffer with \`-----BEGIN CERTIFICATE-----\` lines, or an array of them)`);
  }
  for (const key of ['servername', 'fingerprint'] as const) {
    const value = o[key];
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new UsageError(`Expected \`${name(key)}\` to be a non-empty string, got \`${String(value)}\``);
  }
  if (o.insecure !== undefined && typeof o.insecure !== 'boolean') throw new UsageError(`Expected \`${name('insecure')}\` to be a boolean, got \`${String(o.insecure)}\``);
  if ((o.cert === undefined) !== (o.key === undefined)) {
    const [given, missing] = o.cert === undefined ? (['key', 'cert'] as const) : (['cert', 'key'] as const);
    throw new UsageError(`\`${name(given)}\` needs \`${name(missing)}\` too`);
  }
  if (o.insecure === true && (o.ca !== undefined || o.fingerprint !== undefined)) {
    throw new UsageError(`\`${name('insecure')}\` skips the verification that \`${name(o.ca !== undefined ? 'ca' : 'fingerprint')}\` asks for: give one or the other`);
  }
  const fingerprint = o.fingerprint === undefined ? undefined : normalizeFingerprint(o.fingerprint, name('fingerprint'));
  const pem = { ...(o.ca === undefined ? {} : { ca: o.ca }), ...(o.cert === undefined ? {} : { cert: o.cert }), ...(o.key === undefined ? {} : { key: o.key }) };
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext(pem);
  } catch (err) {
    const given = (['ca', 'cert', 'key'] as const).filter((key) => o[key] !== undefined).map((key) => `\`${name(key)}\``);
    throw new TlsConfigError(`Cannot use ${given.join(', ')}: ${reasonOf(err)}`, { cause: err });
  }
  // A pin alone names one certificate: the chain and the name are not asked about.
  const verify = o.insecure !== true && (fingerprint === undefined || o.ca !== undefined);
  const verifiedBy = o.insecure === true ? 'nothing (insecure)' : fingerprint === undefined ? (o.ca === undefined ? 'system CAs' : 'ca') : o.ca === undefined ? 'fingerprint' : 'ca and fingerprint';
  return {
    connect: { secureContext, rejectUnauthorized: verify, ...nameOptions(o.servername) },
    fingerprint,
    verifiedBy,
  };
}

/**
 * The name to send and check. An IP address is never sent in SNI (RFC 6066 forbids it, and Node
 * warns on stderr): the certificate is checked against it all the same.
 */
function nameOptions(servername: string | undefined): tls.ConnectionOptions {
  if (servername === undefined) return {};
  if (net.isIP(servername) === 0) return { servername };
  return { checkServerIdentity: (_host, cert) => tls.checkServerIdentity(servername, cert) };
}

/** `abcd...` or `AB:CD:...` (any case) as `AB:CD:...`; anything but 32 bytes of hex is a usage error. */
export function normalizeFingerprint(text: string, name = 'tls.fingerprint'): string {
  const hex = text.replaceAll(':', '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new UsageError(`Expected \`${name}\` to be a SHA-256 fingerprint (64 hex digits, colons optional), got \`${text}\``);
  }
  return (hex.match(/../g) as string[]).join(':');
}

/**
 * `tls.connect` with socket options as `net.connect` takes them (a host and port or a path,
 * `allowHalfOpen`, `onread`, a `session` to resume) and the client's TLS settings; Nagle off, as
 * `net.connect`'s `noDelay` would have it, which tls.connect does not take.
 */
export function tlsConnect(options: net.NetConnectOpts & { session?: Buffer }, settings: TlsSettings): tls.TLSSocket {
  const socket = tls.connect({ ...options, ...settings.connect } as tls.ConnectionOptions);
  socket.setNoDelay(true);
  return socket;
}

/**
 * The checks after the handshake that Node leaves to us: the pinned fingerprint. Undefined when
 * the connection may be used.
 */
export function checkPeer(socket: tls.TLSSocket, settings: TlsSettings, where: string): TlsVerifyError | undefined {
  if (settings.fingerprint === undefined) return undefined;
  const actual = socket.getPeerCertificate().fingerprint256;
  if (actual === settings.fingerprint) return undefined;
  return new TlsVerifyError(`TLS verification of ${where} failed: certificate fingerprint mismatch: the server's is ${actual ?? '(none)'}, expected ${settings.fingerprint}`);
}

/** OpenSSL's verification codes for a chain that ends at no trusted CA. */
const UNKNOWN_AUTHORITY = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED']);

/**
 * An error during the handshake (after TCP connected, before `secureConnect`) in our words: a
 * `TlsVerifyError` when the server's certificate was refused, a `TlsHandshakeError` for anything
 * else (an alert from the server, a peer that does not speak TLS, a close mid-handshake).
 */
export function handshakeError(err: Error, where: string, socket: tls.TLSSocket): TlsVerifyError | TlsHandshakeError {
  const code = systemCode(err);
  // Node sets authorizationError just before it destroys a socket whose certificate it refused.
  const refused = socket.authorizationError !== undefined && socket.authorizationError !== null;
  const verify = (why: string): TlsVerifyError => new TlsVerifyError(`TLS verification of ${where} failed: ${why} (${code})`, { cause: err });
  if (code !== undefined && UNKNOWN_AUTHORITY.has(code)) return verify('certificate signed by an unknown authority');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const { host, cert } = err as Error & { host?: string; cert?: tls.PeerCertificate };
    const names = cert?.subjectaltname ?? (cert?.subject?.CN === undefined ? 'none' : `CN=${String(cert.subject.CN)}`);
    return verify(`hostname mismatch: the certificate is for ${names}, not ${host ?? '?'}`);
  }
  if (code === 'CERT_HAS_EXPIRED') return verify('certificate has expired');
  if (code === 'CERT_NOT_YET_VALID') return verify('certificate is not yet valid');
  if (refused) return verify(err.message);
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new TlsHandshakeError(`TLS handshake with ${where} failed: the server closed the connection (is it a TLS server?)`, { cause: err });
  }
  return new TlsHandshakeError(`TLS handshake with ${where} failed: ${reasonOf(err)}`, { cause: err });
}

/** PEM text: something between `-----BEGIN ` and `-----END ` lines (Node ignores a CA that is not). */
function isPem(value: unknown): boolean {
  const text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : '';
  return /-----BEGIN [A-Z0-9 ]+-----[\s\S]*-----END [A-Z0-9 ]+-----/.test(text);
}

/**
 * An error on a TLS connection after its handshake, when it is TLS's: in TLS 1.3 the client's side
 * of the handshake ends before the server has checked the client's certificate, so a server that
 * wants one and got none (or a bad one) says so with an alert on the first read.
 */
export function tlsFailure(err: Error): TcpechoError | undefined {
  const code = systemCode(err);
  if (code === undefined || !code.startsWith('ERR_SSL_')) return undefined;
  if (code.includes('ALERT_CERTIFICATE_REQUIRED')) {
    return new TlsHandshakeError(`The server requires a client certificate and accepted none from us: ${reasonOf(err)}`, { cause: err });
  }
  if (code.includes('_ALERT_')) return new TlsHandshakeError(`The server ended the TLS session: ${reasonOf(err)}`, { cause: err });
  return new ConnectionError(`The TLS connection failed: ${reasonOf(err)}`, { cause: err });
}

/** OpenSSL's own reason (`wrong version number`, `tlsv13 alert certificate required`), else the message. */
export function reasonOf(err: unknown): string {
  const { reason, code, message } = err as { reason?: unknown; code?: unknown; message?: unknown };
  const text = typeof reason === 'string' && reason !== '' ? reason : String(message);
  return typeof code === 'string' && code !== '' ? `${text} (${code})` : text;
}

/** `-v`'s line about a connected TLS socket: version, cipher, the server's certificate. */
export function describeTls(socket: tls.TLSSocket, settings: TlsSettings): string {
  const cert = socket.getPeerCertificate();
  const subject = cert.subject === undefined ? '(no certificate)' : Object.entries(cert.subject).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  const resumed = socket.isSessionReused() ? ', session resumed' : '';
  return `TLS ${socket.getProtocol() ?? '?'}, cipher ${socket.getCipher().name}${resumed}; server certificate ${subject}, SHA256 Fingerprint=${cert.fingerprint256 ?? '?'}; verified against ${settings.verifiedBy}`;
}
