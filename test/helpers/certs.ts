// Certificates made at test time (no private key is committed): a CA, a server certificate for
// the loopback names, a client certificate, an expired one, one for the wrong host, and a second
// CA that signed nothing here. Made once per test process, on first use.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCertificate, type PemPair } from '../../src/server/tls/certificate.js';

export interface TestCertificates {
  ca: PemPair;
  /** Signed by `ca`, for localhost, 127.0.0.1 and ::1. */
  server: PemPair;
  /** Signed by `ca`, for client authentication. */
  client: PemPair;
  /** Signed by `ca`, for localhost, expired yesterday. */
  expired: PemPair;
  /** Signed by `ca`, for client authentication, expired yesterday. */
  expiredClient: PemPair;
  /** Signed by `ca`, for `wrong.example` only. */
  wrongHost: PemPair;
  /** A CA that signed none of these. */
  otherCa: PemPair;
  /** Each of them also on disk, for the CLI: `files.server.cert` is a path. */
  files: Record<'ca' | 'server' | 'client' | 'expired' | 'expiredClient' | 'wrongHost' | 'otherCa', { cert: string; key: string }>;
  dir: string;
}

let made: Promise<TestCertificates> | undefined;

export function testCertificates(): Promise<TestCertificates> {
  made ??= make();
  return made;
}

async function make(): Promise<TestCertificates> {
  const ca = await makeCertificate({ commonName: 'tcpecho test CA', ca: true });
  const loopback = { dns: ['localhost'], ips: ['127.0.0.1', '::1'], issuer: ca };
  const DAY_MS = 86_400_000;
  const pairs = {
    ca,
    server: await makeCertificate({ commonName: 'localhost', ...loopback }),
    client: await makeCertificate({ commonName: 'tcpecho test client', usage: 'client', issuer: ca }),
    expired: await makeCertificate({ commonName: 'localhost', ...loopback, notBefore: new Date(Date.now() - 3 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) }),
    expiredClient: await makeCertificate({ commonName: 'tcpecho expired client', usage: 'client', issuer: ca, notBefore: new Date(Date.now() - 3 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) }),
    wrongHost: await makeCertificate({ commonName: 'wrong.example', dns: ['wrong.example'], issuer: ca }),
    otherCa: await makeCertificate({ commonName: 'another CA', ca: true }),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcpecho-certs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const files = {} as TestCertificates['files'];
  for (const [name, pair] of Object.entries(pairs)) {
    const cert = path.join(dir, `${name}.crt`);
    const key = path.join(dir, `${name}.key`);
    writeFileSync(cert, pair.cert);
    writeFileSync(key, pair.key, { mode: 0o600 });
    files[name as keyof TestCertificates['files']] = { cert, key };
  }
  return { ...pairs, files, dir };
}
