// `tcpecho ping --tls` and `--udp`, the built CLI against real servers on loopback: a tcpecho TLS
// server with certificates made at test time, a plain TCP one (for a TLS client that meets no
// TLS), the UDP echo server, and small UDP servers that corrupt, drop or duplicate.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ping, startUdpEchoServer, type PingResult } from '../../src/index.js';
import { testCertificates } from '../helpers/certs.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freeUdpPort, startTestServer } from '../helpers/server.js';
import { faultyEchoServer } from '../helpers/udp.js';
import { within } from '../helpers/timeout.js';

const TLS_ECHOED = /^64 bytes from 127\.0\.0\.1:(\d+): seq=(\d+)(?: connect=\d+\.\d{2} ms)? tls=(TLSv1\.[23])(?: handshake=(\d+\.\d{2}) ms)? echo=\d+\.\d{2} ms$/;
const UDP_ECHOED = /^64 bytes from 127\.0\.0\.1:(\d+): seq=(\d+) echo=\d+\.\d{2} ms$/;

function linesOf(result: CliResult): string[] {
  return result.stdout.toString().trimEnd().split('\n');
}

async function tlsServer(t: TestContext) {
  const certs = await testCertificates();
  const server = await startTestServer(t, { tls: { cert: certs.server.cert, key: certs.server.key } });
  return { server, certs, port: String(server.address.port) };
}


test('--tls --ca: every probe handshakes and echoes; its line has the version and the handshake time; the summary has a handshake line', async (t) => {
  const { certs, port } = await tlsServer(t);
  const result = await runCli(['ping', '127.0.0.1', port, '-c', '3', '-i', '0.05', '--ca', certs.files.ca.cert]);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0, result.stdout.toString());
  const lines = linesOf(result);
  for (const [i, line] of lines.slice(0, 3).entries()) {
    const match = TLS_ECHOED.exec(line);
    assert.ok(match, line);
    assert.equal(match[2], String(i + 1));
    assert.ok(match[4] !== undefined, `a new connection, so a new handshake: ${line}`);
  }
  assert.equal(lines[4], '3 probes sent, 3 echoed, 0% loss');
  assert.deepEqual(lines.slice(5).map((line) => line.split(' ')[0]), ['connect', 'handshake', 'echo']);
});

test('--tls against a certificate the system CAs do not know: every probe is a tls-error saying why, exit 1', async (t) => {
  const { port } = await tlsServer(t);
  const result = await runCli(['ping', '127.0.0.1', port, '-c', '2', '-i', '0.05', '--tls']);
  assert.equal(result.code, 1);
  const lines = linesOf(result);
  for (const line of lines.slice(0, 2)) assert.match(line, /^seq=\d tls-error: TLS verification of 127\.0\.0\.1:\d+ failed: certificate signed by an unknown authority \(\w+\)$/);
  assert.equal(lines[3], '2 probes sent, 0 echoed, 100% loss (2 tls-error)');
});

test('--fingerprint --keep: one connection and one handshake for every probe; a wrong pin is a tls-error', async (t) => {
  const { server, port } = await tlsServer(t);
  let connections = 0;
  server.on('connection', () => connections++);
  const certs = await testCertificates();
  const { X509Certificate } = await import('node:crypto');
  const fingerprint = new X509Certificate(certs.server.cert).fingerprint256;
  const kept = await runCli(['ping', '127.0.0.1', port, '-c', '3', '-i', '0.05', '--keep', '--fingerprint', fingerprint.replaceAll(':', '').toLowerCase()]);
  assert.equal(kept.code, 0, kept.stdout.toString());
  const lines = linesOf(kept);
  assert.match(lines[0] as string, / connect=\S+ ms tls=TLSv1\.3 handshake=\S+ ms echo=/);
  assert.match(lines[1] as string, /: seq=2 tls=TLSv1\.3 echo=/);
  assert.match(lines[2] as string, /: seq=3 tls=TLSv1\.3 echo=/);
  assert.equal(connections, 1);

  const wrong = `00${fingerprint.slice(2)}`;
  const refused = await runCli(['ping', '127.0.0.1', port, '-c', '1', '--fingerprint', wrong]);
  assert.equal(refused.code, 1);
  assert.match(linesOf(refused)[0] as string, /^seq=1 tls-error: .*certificate fingerprint mismatch: the server's is [0-9A-F:]{95}, expected 00:/);
});

test('--tls against a plain TCP echo: the echoed ClientHello is no TLS, a tls-error, exit 1', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['ping', '127.0.0.1', String(server.address.port), '-c', '1', '--insecure']);
  assert.equal(result.code, 1);
  assert.match(linesOf(result)[0] as string, /^seq=1 tls-error: TLS handshake with 127\.0\.0\.1:\d+ failed: /);
});

test('--udp against the UDP echo server: one datagram a probe, no connect time, exit 0; --json names the transport', async (t) => {
  const server = await startUdpEchoServer();
  t.after(() => server.destroy());
  const port = String(server.address.port);
  const result = await runCli(['ping', '--udp', '127.0.0.1', port, '-c', '3', '-i', '0.05']);
  assert.equal(result.code, 0, result.stdout.toString());
  const lines = linesOf(result);
  for (const [i, line] of lines.slice(0, 3).entries()) assert.equal(UDP_ECHOED.exec(line)?.[2], String(i + 1), line);
  assert.equal(lines[4], '3 probes sent, 3 echoed, 0% loss');
  assert.deepEqual(lines.slice(5).map((line) => line.split(' ')[0]), ['echo']);
  assert.equal(server.stats.echoed, 3);

  const json = await runCli(['ping', '-u', '127.0.0.1', port, '-c', '2', '-i', '0.05', '--keep', '--json']);
  assert.equal(json.code, 0);
  const parsed = JSON.parse(json.stdout.toString()) as PingResult;
  assert.equal(parsed.transport, 'udp');
  assert.equal(parsed.echoed, 2);
  assert.equal(parsed.connect, undefined);
});

test('--udp to a closed port: refused (ICMP port unreachable), exit 1', async () => {
  const port = await freeUdpPort();
  const result = await runCli(['ping', '--udp', `127.0.0.1:${port}`, '-c', '2', '-i', '0.05']);
  assert.equal(result.code, 1);
  assert.deepEqual(linesOf(result).slice(0, 2), ['seq=1 refused', 'seq=2 refused']);
});

test('--udp: a corrupted echo is a mismatch at its byte, a dropped one a timeout; both exit 1', async (t) => {
  const corrupt = await faultyEchoServer(t, { corrupt: 1 });
  const mismatched = await runCli(['ping', '--udp', '127.0.0.1', String(corrupt.port), '-c', '1']);
  assert.equal(mismatched.code, 1);
  // The helper flips the last byte.
  assert.equal(linesOf(mismatched)[0], 'seq=1 mismatch at byte 63');

  const drop = await faultyEchoServer(t, { drop: 1 });
  const started = Date.now();
  const lost = await runCli(['ping', '--udp', '127.0.0.1', String(drop.port), '-c', '2', '-i', '0.05', '-W', '0.2']);
  assert.equal(lost.code, 1);
  assert.deepEqual(linesOf(lost).slice(0, 2), ['seq=1 timeout', 'seq=2 timeout']);
  assert.ok(Date.now() - started >= 400, 'each probe waited -W');
  assert.equal(drop.received(), 2);
});

test('--udp --keep: a duplicated echo of an earlier probe arriving on the kept socket is ignored, not a mismatch', async (t) => {
  const duplicating = await faultyEchoServer(t, { duplicate: 1 });
  const result = await within(ping({ udp: true, port: duplicating.port, count: 4, intervalMs: 20, keep: true }), 10_000, 'ping --udp --keep');
  assert.equal(result.echoed, 4, JSON.stringify(result.probes));
  assert.equal(result.failures.mismatch, 0);
  assert.equal(duplicating.received(), 4);
});

test('usage errors, exit 2: --tls with --udp, a UDP probe larger than a datagram', async () => {
  const both = await runCli(['ping', '--udp', '--tls', '-c', '1']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /`--tls` does not apply with `--udp`/);
  const large = await runCli(['ping', '--udp', '-s', '65508', '-c', '1']);
  assert.equal(large.code, 2);
  assert.match(large.stderr, /A UDP probe is one datagram: at most 65507 bytes over IPv4/);
  await assert.rejects(ping({ udp: true, tls: true, count: 1 }), { code: 'TCPECHO_ERR_USAGE' });
});

test('the library: ping({ tls: { ca } }) and ping({ udp: true }) say their transport and time the handshake', async (t) => {
  const { certs, server } = await tlsServer(t);
  const viaTls = await within(ping({ port: server.address.port, count: 2, intervalMs: 10, tls: { ca: certs.ca.cert } }), 10_000, 'ping tls');
  assert.equal(viaTls.transport, 'tls');
  assert.equal(viaTls.echoed, 2);
  assert.equal(viaTls.handshake?.count, 2);
  const udp = await startUdpEchoServer();
  t.after(() => udp.destroy());
  const viaUdp = await within(ping({ port: udp.address.port, count: 1, udp: true }), 10_000, 'ping udp');
  assert.equal(viaUdp.transport, 'udp');
  assert.equal(viaUdp.echoed, 1);
});
