// `tcpecho client --tls` end to end against a plain Node TLS echo: byte-exact, half-close,
// verification refusals in one line with exit 1, pins, --insecure, mutual TLS, and the usage
// errors of the TLS flags with exit 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, collect, runCli } from '../helpers/cli.js';
import { testCertificates } from '../helpers/certs.js';
import { startTlsEcho } from '../helpers/tls-echo.js';

const certs = await testCertificates();
const { files } = certs;
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, /^tcpecho: /);
  assert.match(stderr, pattern);
}

test('16 MiB of random bytes through the client over TLS come back identical, exit 0', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'big.bin');
  const data = randomBytes(16 * 1024 * 1024);
  writeFileSync(input, data);
  const fd = openSync(input, 'r');
  t.after(() => closeSync(fd));
  const child = spawn(process.execPath, [CLI, 'client', '--tls', '--ca', files.ca.cert, '127.0.0.1', String(server.port)], { stdio: [fd, 'pipe', 'pipe'] });
  const result = await collect(child, undefined, 60_000, 'client --tls with 16 MiB on stdin');
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0);
  assert.equal(result.stdout.length, data.length);
  assert.ok(result.stdout.equals(data));
});

test('half-close over TLS: a server that echoes only after the client has ended still gets it all back', async (t) => {
  const server = await startTlsEcho(t, certs.server, {}, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(chunks)));
  });
  const data = randomBytes(200_000);
  const result = await runCli(['client', '--tls', '--ca', files.ca.cert, '127.0.0.1', String(server.port)], { input: data });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.equals(data));
});

for (const [name, pair, ca, why] of [
  ['an unknown CA', certs.server, files.otherCa.cert, /TLS verification of 127\.0\.0\.1:\d+ failed: certificate signed by an unknown authority/],
  ['a wrong hostname', certs.wrongHost, files.ca.cert, /failed: hostname mismatch: the certificate is for DNS:wrong\.example, not 127\.0\.0\.1/],
  ['an expired certificate', certs.expired, files.ca.cert, /failed: certificate has expired/],
] as const) {
  test(`the client refuses ${name}: one line, exit 1, nothing on stdout`, async (t) => {
    const server = await startTlsEcho(t, pair);
    const result = await runCli(['client', '--tls', '--ca', ca, '127.0.0.1', String(server.port)], { input: 'secret' });
    assert.equal(result.code, 1);
    assertOneLineError(result.stderr, why);
    assert.equal(result.stdout.length, 0);
  });
}

test('without --ca the system CAs are asked, and they do not know the test CA', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const result = await runCli(['client', '--tls', '127.0.0.1', String(server.port)], { input: 'x' });
  assert.equal(result.code, 1);
  assertOneLineError(result.stderr, /unknown authority/);
});

test('--fingerprint (which implies --tls) accepts the pinned certificate and refuses another, naming both', async (t) => {
  const server = await startTlsEcho(t, certs.otherCa);
  const pin = fingerprint(certs.otherCa.cert);
  const ok = await runCli(['client', '--fingerprint', pin.replaceAll(':', '').toLowerCase(), '127.0.0.1', String(server.port)], { input: 'pinned' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.toString(), 'pinned');
  const wrong = fingerprint(certs.server.cert);
  const refused = await runCli(['client', '--tls', '--fingerprint', wrong, '127.0.0.1', String(server.port)], { input: 'pinned' });
  assert.equal(refused.code, 1);
  assertOneLineError(refused.stderr, /fingerprint mismatch/);
  assert.ok(refused.stderr.includes(pin) && refused.stderr.includes(wrong), refused.stderr);
});

test('--insecure skips verification: an expired certificate for another host is used', async (t) => {
  const server = await startTlsEcho(t, certs.expired);
  const result = await runCli(['client', '--insecure', '127.0.0.1', String(server.port)], { input: 'anyway' });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.toString(), 'anyway');
});

test('--servername names the host the certificate is checked against', async (t) => {
  const server = await startTlsEcho(t, certs.wrongHost);
  const result = await runCli(['client', '--tls', '--ca', files.ca.cert, '--servername', 'wrong.example', '127.0.0.1', String(server.port)], { input: 'sni' });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.toString(), 'sni');
});

test('mutual TLS: --cert and --key are served by a server that requires them; without them, one line and exit 1', async (t) => {
  const server = await startTlsEcho(t, certs.server, { ca: certs.ca.cert, requestCert: true, rejectUnauthorized: true });
  const base = ['client', '--tls', '--ca', files.ca.cert, '127.0.0.1', String(server.port)];
  const served = await runCli([...base, '--cert', files.client.cert, '--key', files.client.key], { input: 'mutual' });
  assert.equal(served.code, 0, served.stderr);
  assert.equal(served.stdout.toString(), 'mutual');
  assert.deepEqual(server.clientSubjects, ['tcpecho test client']);
  const refused = await runCli(base, { input: 'mutual' });
  assert.equal(refused.code, 1);
  assertOneLineError(refused.stderr, /requires a client certificate/);
});

test('-v names the TLS version, the cipher and the server certificate with its fingerprint', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const result = await runCli(['client', '-v', '--tls', '--ca', files.ca.cert, '127.0.0.1', String(server.port)], { input: 'v' });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^TLS TLSv1\.3, cipher TLS_\w+; server certificate CN=localhost, SHA256 Fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}; verified against ca$/m);
  assert.ok(result.stderr.includes(fingerprint(certs.server.cert)));
});

test('a plain-text server: one line naming the TLS handshake, exit 1', async (t) => {
  const { startTestServer } = await import('../helpers/server.js');
  const server = await startTestServer(t);
  const result = await runCli(['client', '--insecure', '127.0.0.1', String(server.address.port), '-w', '5'], { input: 'x' });
  assert.equal(result.code, 1);
  assertOneLineError(result.stderr, /TLS handshake with 127\.0\.0\.1:\d+ failed/);
});

test('usage errors of the TLS flags: one line each, exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a certificate\n');
  const missing = join(dir, 'missing.pem');
  const cases: Array<[string[], RegExp]> = [
    [['--ca', missing], /Cannot read `--ca` file `.*missing\.pem`: no such file/],
    [['--ca', text], /`--ca` file `.*notes\.txt` is not a PEM certificate/],
    [['--tls', '--cert', files.client.cert, '--key', files.client.cert], /`--key` file `.*client\.crt` is not a PEM private key/],
    [['--tls', '--cert', files.client.cert], /`--cert .*client\.crt` needs `--key` too/],
    [['--tls', '--key', files.client.key], /`--key .*client\.key` needs `--cert` too/],
    [['--tls', '--cert', files.client.cert, '--key', files.server.key], /Cannot use `--cert .*`, `--key .*`: key values mismatch/],
    [['--cert', files.client.cert, '--key', files.client.key], /`--cert` is for TLS connections: add `--tls`/],
    [['--servername', 'example.com'], /`--servername` is for TLS connections: add `--tls`/],
    [['--insecure', '--ca', files.ca.cert], /`--insecure` skips the verification that `--ca .*` asks for/],
    [['--fingerprint', 'AB:CD'], /Expected `--fingerprint` to be a SHA-256 fingerprint \(64 hex digits, colons optional\), got `AB:CD`/],
  ];
  for (const [args, pattern] of cases) {
    // Port 1: a usage error must come before any connection attempt.
    const result = await runCli(['client', ...args, '127.0.0.1', '1'], { input: '' });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assertOneLineError(result.stderr, pattern);
  }
});
