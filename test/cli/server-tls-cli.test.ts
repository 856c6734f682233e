// `tcpecho server` with TLS, end to end: the fingerprint line before the ready line, the close
// line's TLS fields, and one line with exit 2 for every unusable file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { test } from 'node:test';
import { testCertificates } from '../helpers/certs.js';
import { runCli, spawnServer } from '../helpers/cli.js';
import { readAll } from '../helpers/echo.js';
import { within } from '../helpers/timeout.js';

test('--tls alone: the temporary certificate\'s fingerprint, as openssl prints it, comes before the ready line, and a client can pin it', async (t) => {
  const server = await spawnServer(t, ['--tls']);
  const fingerprintAt = server.lines.findIndex((line) => line.startsWith('tcpecho tls certificate '));
  const readyAt = server.lines.findIndex((line) => line.startsWith('tcpecho listening on '));
  assert.ok(fingerprintAt !== -1 && fingerprintAt < readyAt, server.lines.join('\n'));
  const fingerprint = /^tcpecho tls certificate SHA256 Fingerprint=((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/.exec(server.lines[fingerprintAt] ?? '')?.[1];
  assert.ok(fingerprint !== undefined, server.lines[fingerprintAt]);
  assert.match(server.lines[readyAt] ?? '', /^tcpecho listening on 127\.0\.0\.1:\d+ \(mode event, tls\)$/);

  const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
  await within(once(socket, 'secureConnect'), 10_000, 'handshake');
  const peer = socket.getPeerCertificate();
  assert.equal(peer.fingerprint256, fingerprint);
  // The very line openssl prints for the certificate served, with the prefix ours adds.
  const pem = `-----BEGIN CERTIFICATE-----\n${(peer.raw.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
  const openssl = spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: pem, encoding: 'utf8' });
  assert.equal(openssl.status, 0, openssl.stderr);
  assert.equal(`tcpecho tls certificate ${openssl.stdout.trim().replace(/^sha256 /i, 'SHA256 ')}`, server.lines[fingerprintAt]);
  const received = readAll(socket);
  socket.end('pinned');
  assert.equal((await within(received, 5000, 'echo')).toString(), 'pinned');
  const close = await server.waitForLine(/ close #1 /);
  assert.match(close, / tls=TLSv1\.3 cipher=TLS_\S+ reason=eof$/);
});

test('--tls-cert and --tls-key in fork mode: served, and a plain-text client is logged reason=tls-error (CODE)', async (t) => {
  const { files } = await testCertificates();
  const server = await spawnServer(t, ['--mode', 'fork', '--spare', '1', '--tls-cert', files.server.cert, '--tls-key', files.server.key]);
  assert.match(server.lines.at(-1) ?? '', /\(mode fork, tls\)$/);
  const net = await import('node:net');
  const plain = net.connect({ host: '127.0.0.1', port: server.port });
  plain.on('error', () => {});
  plain.end('hello in plain text\n');
  await within(readAll(plain).catch(() => Buffer.alloc(0)), 10_000, 'plain client closed');
  assert.match(await server.waitForLine(/ close #1 /), / reason=tls-error \(ERR_SSL_[A-Z_]+\)$/);
});

test('unusable TLS files: one line naming the flag and the file, exit 2, nothing listens', async (t) => {
  const { files, dir } = await testCertificates();
  const notPem = path.join(dir, 'not-pem.txt');
  writeFileSync(notPem, 'hello\n');
  const missing = path.join(dir, 'missing.crt');
  const cases: Array<[string[], RegExp]> = [
    [['--tls-cert', missing, '--tls-key', files.server.key], /^tcpecho: Cannot read `--tls-cert .*missing\.crt`: no such file \(ENOENT\)$/],
    [['--tls-cert', notPem, '--tls-key', files.server.key], /^tcpecho: `--tls-cert .*not-pem\.txt` is not a PEM certificate/],
    [['--tls-cert', files.server.cert, '--tls-key', notPem], /^tcpecho: `--tls-key .*not-pem\.txt` is not a PEM private key/],
    [['--tls-cert', files.server.cert, '--tls-key', files.client.key], /^tcpecho: `--tls-key .*client\.key` does not match the certificate in `--tls-cert .*server\.crt`$/],
    [['--tls-cert', files.server.cert], /^tcpecho: `--tls-cert .*` needs its private key/],
    [['--tls', '--tls-client-cert', 'require'], /needs `--tls-ca FILE`/],
    [['--tls', '--tls-min-version', 'TLSv1.1'], /Expected `--tls-min-version` to be one of `TLSv1\.2`, `TLSv1\.3`/],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli(['server', '--port', '0', ...args]);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', expected);
    assert.doesNotMatch(result.stderr, /listening/);
  }
  void t;
});
