// tcpecho's TLS client and bench against tcpecho's own TLS server: the temporary certificate pinned
// by the fingerprint the server prints, every mode byte-exact, mutual TLS, and the bench's modes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runBench, type BenchOptions, type BenchResult } from '../../src/bench/index.js';
import { echoRoundTrip } from '../../src/index.js';
import { CLI, collect, runCli, spawnServer } from '../helpers/cli.js';
import { testCertificates } from '../helpers/certs.js';
import { startTestServer } from '../helpers/server.js';
import { within } from '../helpers/timeout.js';

const certs = await testCertificates();
const { files } = certs;
const SERVED = ['--tls-cert', files.server.cert, '--tls-key', files.server.key];

/** `data` through `tcpecho client ARGS` from a file on stdin (as `< file` would), within `ms`. */
async function pipeFile(t: TestContext, args: string[], data: Buffer, ms: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-tls-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'data.bin');
  writeFileSync(input, data);
  const fd = openSync(input, 'r');
  t.after(() => closeSync(fd));
  const child = spawn(process.execPath, [CLI, 'client', ...args], { stdio: [fd, 'pipe', 'pipe'] });
  return collect(child, undefined, ms, `tcpecho client ${args.join(' ')}`);
}

test('tcpecho server --tls: the client pins the fingerprint it prints; unpinned, the self-signed certificate is refused', async (t) => {
  const server = await spawnServer(t, ['--tls']);
  const line = await server.waitForLine(/^tcpecho tls certificate SHA256 Fingerprint=/);
  const pin = line.slice(line.indexOf('=') + 1);
  assert.match(pin, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const data = randomBytes(1024 * 1024);
  const pinned = await runCli(['client', '--fingerprint', pin, '127.0.0.1', String(server.port)], { input: data });
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.ok(pinned.stdout.equals(data));
  const unpinned = await runCli(['client', '--tls', '127.0.0.1', String(server.port)], { input: data });
  assert.equal(unpinned.code, 1);
  assert.match(unpinned.stderr, /^tcpecho: TLS verification of 127\.0\.0\.1:\d+ failed: certificate signed by an unknown authority \(DEPTH_ZERO_SELF_SIGNED_CERT\)\n$/);
});

for (const [mode, size] of [['event', 16 * 1024 * 1024], ['fork', 1024 * 1024], ['cluster', 1024 * 1024]] as const) {
  test(`${mode} server with --tls-cert: ${size / 2 ** 20} MiB through tcpecho client --ca come back identical`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode, ...SERVED, ...(mode === 'cluster' ? ['--workers', '2'] : [])]);
    const data = randomBytes(size);
    const result = await pipeFile(t, ['--tls', '--ca', files.ca.cert, '127.0.0.1', String(server.port)], data, 60_000);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.ok(result.stdout.equals(data));
    // The server saw TLS, and the client's half-close ended the connection cleanly.
    assert.match(await server.waitForLine(/ close #1 /), /tls=TLSv1\.3 cipher=\S+ reason=eof/);
  });
}

test('--tls-client-cert require: the client with --cert/--key is served, without them refused in one line', async (t) => {
  const server = await spawnServer(t, [...SERVED, '--tls-ca', files.ca.cert, '--tls-client-cert', 'require']);
  const base = ['client', '--tls', '--ca', files.ca.cert, '127.0.0.1', String(server.port)];
  const served = await runCli([...base, '--cert', files.client.cert, '--key', files.client.key], { input: 'mutual' });
  assert.equal(served.code, 0, served.stderr);
  assert.equal(served.stdout.toString(), 'mutual');
  const refused = await runCli(base, { input: 'mutual' });
  assert.equal(refused.code, 1);
  // tcpecho's server checks the client certificate after the handshake and closes without an
  // alert, so the client can only say that the server closed before echoing.
  assert.match(refused.stderr, /^tcpecho: (The server requires a client certificate|The server closed the connection after echoing 0 of 6 bytes|The server reset the connection \(ECONNRESET\))/);
  assert.equal(refused.stdout.length, 0);
  assert.equal(refused.stderr.trimEnd().split('\n').length, 1, refused.stderr);
});

async function bench(options: BenchOptions): Promise<BenchResult> {
  const stop = new AbortController();
  try {
    return await within(runBench({ ...options, signal: stop.signal }), 30_000, `runBench ${options.mode ?? ''}`);
  } finally {
    stop.abort();
  }
}

for (const [mode, tlsResume] of [['pingpong', false], ['stream', false], ['connect', false], ['connect', true]] as const) {
  test(`runBench ${mode}${tlsResume ? ' with tlsResume' : ''} against startEchoServer({ tls }): zero errors`, async (t) => {
    const server = await startTestServer(t, { tls: { cert: certs.server.cert, key: certs.server.key } });
    const result = await bench({
      host: '127.0.0.1', port: server.address.port, mode, tls: { ca: certs.ca.cert }, ...(tlsResume ? { tlsResume } : {}),
      connections: 4, size: mode === 'stream' ? 65536 : 1024, durationMs: 500, warmupMs: 0, timeoutMs: 5000,
    });
    assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
    assert.ok(result.messages > 0);
    if (tlsResume) assert.ok(result.tlsResumed > 0, JSON.stringify(result));
    if (mode === 'connect' && !tlsResume) assert.ok(result.tlsFull > 0 && result.tlsResumed === 0, JSON.stringify(result));
  });
}

test('TLS over a Unix socket: echoRoundTrip and runBench (the certificate checked against localhost)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-tls-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const unix = join(dir, 'echo.sock');
  await startTestServer(t, { unix, tls: { cert: certs.server.cert, key: certs.server.key } });
  const data = randomBytes(200_000);
  assert.ok((await echoRoundTrip(data, { unix, tls: { ca: certs.ca.cert }, timeoutMs: 10_000 })).equals(data));
  const result = await bench({ unix, mode: 'connect', tls: { ca: certs.ca.cert }, tlsResume: true, connections: 2, durationMs: 300, warmupMs: 0, timeoutMs: 5000 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  assert.ok(result.tlsResumed > 0);
});
