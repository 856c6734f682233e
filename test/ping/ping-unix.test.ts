// `tcpecho ping --unix` and `ping({ unix })`: probes to a server on a Unix socket (a file and an
// abstract name), over TLS too; a stale socket file is `refused`; the usage errors of --unix with
// an address or --udp.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ping } from '../../src/index.js';
import { testCertificates } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { abstractName, socketDir, staleSocket } from '../helpers/unix.js';

const ECHOED = /^64 bytes from unix:(\S+): seq=(\d+) connect=\d+\.\d{2} ms echo=\d+\.\d{2} ms$/;

test('ping --unix PATH: every probe connects to the socket file and echoes; lines and summary name unix:PATH', async (t) => {
  const path = join(socketDir(t), 'echo.sock');
  const server = await startTestServer(t, { unix: path });
  const opened: number[] = [];
  server.on('connection', (info) => opened.push(info.id));
  const result = await runCli(['ping', '--unix', path, '-c', '3', '-i', '0.05']);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0, result.stdout.toString());
  const lines = result.stdout.toString().trimEnd().split('\n');
  for (const [i, line] of lines.slice(0, 3).entries()) {
    const match = ECHOED.exec(line);
    assert.ok(match, line);
    assert.deepEqual([match[1], match[2]], [path, String(i + 1)]);
  }
  assert.equal(lines[3], `--- unix:${path} tcpecho ping statistics ---`);
  assert.equal(lines[4], '3 probes sent, 3 echoed, 0% loss');
  assert.equal(opened.length, 3, 'a new connection per probe');
});

test('ping({ unix }) to an abstract name: transport unix, the address unix:@NAME, every probe echoed', async (t) => {
  const name = abstractName();
  await startTestServer(t, { unix: name });
  const result = await ping({ unix: name, count: 2, intervalMs: 10, keep: true });
  assert.equal(result.transport, 'unix');
  assert.equal(result.target, `unix:${name}`);
  assert.equal(result.address, `unix:${name}`);
  assert.equal(result.echoed, 2);
});

test('ping({ unix, tls }) to a TLS server on a socket file: transport tls, each probe with its handshake', async (t) => {
  const certs = await testCertificates();
  const path = join(socketDir(t), 'tls.sock');
  await startTestServer(t, { unix: path, tls: { cert: certs.server.cert, key: certs.server.key } });
  const result = await ping({ unix: path, count: 2, intervalMs: 10, tls: { ca: certs.ca.cert } });
  assert.equal(result.transport, 'tls');
  assert.equal(result.echoed, 2, JSON.stringify(result.probes));
  for (const probe of result.probes) assert.ok(probe.outcome === 'echoed' && probe.tlsProtocol !== undefined && probe.handshakeMs !== undefined, JSON.stringify(probe));
});

test('ping --unix to a stale socket file: refused, exit 1', async (t) => {
  const path = join(socketDir(t), 'stale.sock');
  await staleSocket(path);
  const result = await runCli(['ping', '--unix', path, '-c', '1']);
  assert.equal(result.code, 1);
  assert.match(result.stdout.toString(), /^seq=1 refused$/m);
  assert.match(result.stdout.toString(), /1 probes sent, 0 echoed, 100% loss \(1 refused\)/);
});

test('ping --unix with HOST PORT, -4 or --udp: one line, exit 2', async () => {
  for (const [args, message] of [
    [['--unix', '/tmp/x.sock', '127.0.0.1', '7007'], /Give either `--unix` or HOST and PORT, not both/],
    [['--unix', '/tmp/x.sock', '-4'], /Give either `--unix` or HOST and PORT, not both \(got `-4`/],
    [['--unix', '/tmp/x.sock', '--udp'], /`--unix` does not apply with `--udp`/],
  ] as const) {
    const result = await runCli(['ping', ...args, '-c', '1']);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, message);
  }
  await assert.rejects(ping({ unix: '/tmp/x.sock', udp: true, count: 1 }), { code: 'TCPECHO_ERR_USAGE', message: /`unix` does not apply with `udp: true`/ });
});
