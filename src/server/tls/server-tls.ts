import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { TlsConfigError, UsageError } from '../../errors.js';
import { TLS_CLIENT_CERTS, TLS_VERSIONS } from '../../options/table.js';
import type { EchoServerTlsOptions } from '../types.js';
import { secureContextOptions } from './tls-acceptor.js';

/**
 * A server's TLS, checked and in plain data: what the process that accepts sends to every process
 * that echoes (fork children, cluster workers) over IPC, never on a command line, where the key
 * would show in `ps`.
 */
export interface TlsSettings {
  cert: string;
  key: string;
  ca?: string;
  clientCert?: 'require' | 'request';
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  alpn?: string[];
  /**
   * Session ticket keys (48 bytes, base64), made once per server: every process that echoes
   * shares them, so a client resumes its session whichever fork child or cluster worker it reaches.
   */
  ticketKeys: string;
}

export interface ServerTls {
  settings: TlsSettings;
  /** The SHA-256 fingerprint of the certificate served (the leaf, first in a chain). */
  fingerprint: string;
  /** Made at start-up (`tls: true`, or no `cert` and `key`). */
  temporary: boolean;
}

/** How the messages name each input: the library's keys, or the CLI's flags with their files. */
export interface TlsNames {
  cert: string;
  key: string;
  ca: string;
}

const LIBRARY_NAMES: TlsNames = { cert: '`tls.cert`', key: '`tls.key`', ca: '`tls.ca`' };

const PEM_CERTIFICATE = /-----BEGIN (TRUSTED |X509 )?CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;
const ALPN_MAX = 255;

/**
 * Checks the `tls` option and loads what it names; undefined for plain TCP. Every problem is one
 * `TlsConfigError` (or `UsageError` for a malformed option) naming the input and what is wrong,
 * before anything listens.
 */
export async function resolveServerTls(option: unknown, names: TlsNames = LIBRARY_NAMES): Promise<ServerTls | undefined> {
  if (option === undefined || option === false) return undefined;
  const given: EchoServerTlsOptions = option === true ? {} : checkShape(option);
  const minVersion = given.minVersion ?? 'TLSv1.2';
  if (!(TLS_VERSIONS as readonly string[]).includes(minVersion)) {
    throw new UsageError(`Expected \`tls.minVersion\` to be one of ${TLS_VERSIONS.map((v) => `\`${v}\``).join(', ')}, got \`${String(minVersion)}\``);
  }
  if (given.clientCert !== undefined && !(TLS_CLIENT_CERTS as readonly string[]).includes(given.clientCert)) {
    throw new UsageError(`Expected \`tls.clientCert\` to be \`require\` or \`request\`, got \`${String(given.clientCert)}\``);
  }
  if (given.clientCert !== undefined && given.ca === undefined) {
    throw new UsageError(`A client certificate check (\`tls.clientCert\`) needs the CA to check against (${names.ca})`);
  }
  if ((given.cert === undefined) !== (given.key === undefined)) {
    throw new UsageError(given.cert === undefined ? `${names.key} needs its certificate (${names.cert})` : `${names.cert} needs its private key (${names.key})`);
  }
  const alpn = checkAlpn(given.alpn);
  let temporary = false;
  let cert: string;
  let key: string;
  if (given.cert === undefined || given.key === undefined) {
    const { makeTemporaryCertificate } = await import('./certificate.js');
    ({ cert, key } = await makeTemporaryCertificate());
    temporary = true;
  } else {
    cert = pemText(given.cert, names.cert, PEM_CERTIFICATE, 'a PEM certificate');
    key = pemText(given.key, names.key, PEM_KEY, 'a PEM private key');
  }
  const settings: TlsSettings = { cert, key, minVersion, ticketKeys: randomBytes(48).toString('base64') };
  if (given.ca !== undefined) settings.ca = pemText(given.ca, names.ca, PEM_CERTIFICATE, 'PEM CA certificates');
  if (given.clientCert !== undefined) settings.clientCert = given.clientCert;
  if (alpn !== undefined) settings.alpn = alpn;
  const fingerprint = checkPair(settings, names);
  return { settings, fingerprint, temporary };
}

function checkShape(option: unknown): EchoServerTlsOptions {
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new UsageError(`Expected \`tls\` to be \`true\` or an object ({ cert, key, ca, clientCert, minVersion, alpn }), got \`${String(option)}\``);
  }
  return option as EchoServerTlsOptions;
}

function checkAlpn(alpn: unknown): string[] | undefined {
  if (alpn === undefined) return undefined;
  const ok = Array.isArray(alpn) && alpn.length > 0 &&
    alpn.every((p) => typeof p === 'string' && p !== '' && Buffer.byteLength(p) <= ALPN_MAX);
  if (!ok) throw new UsageError(`Expected \`tls.alpn\` to be a list of protocol names (\`h2\`, \`http/1.1\`), got \`${String(alpn)}\``);
  return alpn as string[];
}

function pemText(value: unknown, name: string, marker: RegExp, what: string): string {
  const text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : undefined;
  if (text === undefined) throw new UsageError(`Expected ${name} to be PEM text (a string or a Buffer), got \`${String(value)}\``);
  if (!marker.test(text)) throw new TlsConfigError(`${name} is not ${what} (no \`-----BEGIN\` line of that kind)`);
  return text;
}

/** Parses the certificate and the key and checks that they belong together; returns the fingerprint. */
function checkPair(settings: TlsSettings, names: TlsNames): string {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(settings.cert);
  } catch (err) {
    throw new TlsConfigError(`${names.cert} is not a valid PEM certificate (${(err as Error).message})`, { cause: err });
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(settings.key))) {
      throw new TlsConfigError(`${names.key} does not match the certificate in ${names.cert}`);
    }
  } catch (err) {
    if (err instanceof TlsConfigError) throw err;
    throw new TlsConfigError(`${names.key} is not a valid PEM private key (${(err as Error).message})`, { cause: err });
  }
  try {
    tls.createSecureContext(secureContextOptions(settings));
  } catch (err) {
    const bad = settings.ca !== undefined && /ca|x509/i.test((err as Error).message) ? names.ca : names.cert;
    throw new TlsConfigError(`${bad} cannot be used: ${(err as Error).message}`, { cause: err });
  }
  return leaf.fingerprint256;
}
