import { webcrypto, type webcrypto as WebCrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Certificates are made with @peculiar/x509 over Node's own WebCrypto: an X.509 encoder is not
// something to write by hand, and Node has none of its own. Loaded only when a certificate is
// made (`--tls` without files, and the tests), never on a plain server's start.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = WebCrypto.CryptoKey;
type CryptoKeyPair = WebCrypto.CryptoKeyPair;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate and its key, in PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

export interface CertificateRequest {
  /** The subject's common name. */
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName extension. */
  dns?: string[];
  ips?: string[];
  /** The issuer: undefined for a self-signed certificate. */
  issuer?: PemPair;
  /** A CA certificate (basicConstraints cA, keyCertSign). @default false */
  ca?: boolean;
  /** Its use: `server`, `client`, or both. @default 'server' */
  usage?: 'server' | 'client' | 'both';
  notBefore?: Date;
  notAfter?: Date;
}

/** An ECDSA P-256 certificate, self-signed or signed by `issuer`. */
export async function makeCertificate(request: CertificateRequest): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(request.ca === true, undefined, true),
    new x509.KeyUsagesExtension(
      request.ca === true ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (request.ca !== true) {
    const usage = request.usage ?? 'server';
    const purposes = usage === 'both' ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
      : [usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth];
    extensions.push(new x509.ExtendedKeyUsageExtension(purposes));
  }
  const names = [...(request.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(request.ips ?? []).map((value) => ({ type: 'ip' as const, value }))];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const subject = `CN=${request.commonName}`;
  const validity = {
    notBefore: request.notBefore ?? new Date(now - DAY_MS),
    notAfter: request.notAfter ?? new Date(now + 30 * DAY_MS),
  };
  let cert: x509.X509Certificate;
  if (request.issuer === undefined) {
    cert = await x509.X509CertificateGenerator.createSelfSigned({ name: subject, keys, signingAlgorithm: SIGNING, extensions, ...validity });
  } else {
    const issuerCert = new x509.X509Certificate(request.issuer.cert);
    const issuerKey = await importKey(request.issuer.key);
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerCert));
    cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: issuerCert.subject,
      publicKey: keys.publicKey,
      signingKey: issuerKey,
      signingAlgorithm: SIGNING,
      extensions,
      ...validity,
    });
  }
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: pemOf('PRIVATE KEY', Buffer.from(pkcs8)) };
}

/**
 * What `--tls` with no files serves, as `ncat --ssl` does: a certificate for this machine's
 * loopback names, made at start-up and valid for 30 days.
 */
export function makeTemporaryCertificate(): Promise<PemPair> {
  return makeCertificate({ commonName: 'tcpecho temporary certificate', dns: ['localhost'], ips: ['127.0.0.1', '::1'] });
}

function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']) as Promise<CryptoKey>;
}

function pemOf(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
