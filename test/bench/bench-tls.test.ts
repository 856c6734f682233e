// The load generator over TLS, against a plain Node TLS echo: zero errors in every mode, full and
// resumed handshakes counted in connect mode, a refused certificate ending the run with the
// client's line, and the TLS flags' usage errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBench, type BenchOptions, type BenchResult } from '../../src/bench/index.js';
import { testCertificates } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { startTlsEcho } from '../helpers/tls-echo.js';
import { within } from '../helpers/timeout.js';

const certs = await testCertificates();

async function bench(options: BenchOptions, ms = 30_000): Promise<BenchResult> {
  const stop = new AbortController();
  try {
    return await within(runBench({ ...options, signal: stop.signal }), ms, `runBench ${options.mode ?? ''}`);
  } finally {
    stop.abort();
  }
}

const QUICK: BenchOptions = { host: '127.0.0.1', warmupMs: 0, durationMs: 500, timeoutMs: 5000, connections: 4, size: 1024 };

for (const mode of ['pingpong', 'stream', 'connect'] as const) {
  test(`${mode} over TLS: zero errors, every byte checked`, async (t) => {
    const server = await startTlsEcho(t, certs.server);
    const result = await bench({ ...QUICK, port: server.port, mode, tls: { ca: certs.ca.cert }, size: mode === 'stream' ? 65536 : 1024 });
    assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
    assert.equal(result.tls, true);
    assert.ok(result.messages > 0 && result.mibPerS > 0);
    if (mode === 'connect') {
      assert.ok(result.connectionsPerS > 0);
      // Without tlsResume every connection is a full handshake.
      assert.equal(result.tlsResumed, 0);
      assert.ok(result.tlsFull > 0);
      // The latency runs from the connect call: it includes the handshake, at least a round trip more.
      assert.ok(result.latencyUs.min > 0);
    }
  });
}

test('connect with tlsResume: the server resumes the loops\' sessions, and they are counted', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const result = await bench({ ...QUICK, port: server.port, mode: 'connect', tls: { ca: certs.ca.cert }, tlsResume: true });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  assert.ok(result.tlsResumed > 0, JSON.stringify(result));
  // Each loop's first connection (in the window or before it) is full; the rest resume.
  assert.ok(result.tlsFull <= QUICK.connections!, `full: ${result.tlsFull}, resumed: ${result.tlsResumed}`);
});

test('over two threads the resumed counts are added', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const result = await bench({ ...QUICK, port: server.port, mode: 'connect', tls: { insecure: true }, tlsResume: true, threads: 2 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  assert.ok(result.tlsResumed > 0);
  assert.equal(result.tlsResumed + result.tlsFull, Math.round(result.connectionsPerS * result.durationS));
});

test('a refused certificate ends the run at once with TCPECHO_ERR_TLS_VERIFY, in every mode and over threads', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  for (const options of [{ mode: 'pingpong' }, { mode: 'connect' }, { mode: 'stream', threads: 2 }] as const) {
    await assert.rejects(bench({ ...QUICK, ...options, port: server.port, tls: { ca: certs.otherCa.cert } }), {
      code: 'TCPECHO_ERR_TLS_VERIFY',
      message: /certificate signed by an unknown authority/,
    });
  }
});

test('tlsResume without tls is a usage error', async () => {
  await assert.rejects(bench({ ...QUICK, port: 1, mode: 'connect', tlsResume: true }), { code: 'TCPECHO_ERR_USAGE' });
});

test('tcpecho bench --tls --tls-resume in connect mode: the report counts full and resumed handshakes', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const args = ['bench', '127.0.0.1', String(server.port), '-m', 'connect', '-c', '2', '-d', '0.5', '--warmup', '0'];
  const result = await runCli([...args, '--ca', certs.files.ca.cert, '--tls-resume']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.toString(), /^tcpecho bench: connect 127\.0\.0\.1:\d+ \(TLS\)/);
  const match = /TLS sessions +(\d+) full handshakes, ([\d,]+) resumed/.exec(result.stdout.toString());
  assert.ok(match, result.stdout.toString());
  assert.ok(Number((match[2] as string).replaceAll(',', '')) > 0);
  const refused = await runCli([...args, '--tls']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^tcpecho: TLS verification of 127\.0\.0\.1:\d+ failed: certificate signed by an unknown authority/);
  const usage = await runCli(['bench', '127.0.0.1', '1', '-m', 'connect', '--tls-resume']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /`--tls-resume` needs `--tls`/);
});
