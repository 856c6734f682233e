// `tcpecho bench --udp`: against tcpecho's UDP server and against servers that misbehave on purpose.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBench, type BenchResult } from '../../src/bench/index.js';
import { startUdpEchoServer } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { faultyEchoServer } from '../helpers/udp.js';

const SHORT = ['-d', '1.5', '--warmup', '0.2', '--json'];

async function cliBench(port: number, args: string[]): Promise<{ code: number | null; result: BenchResult; stderr: string }> {
  const run = await runCli(['bench', '--udp', '127.0.0.1', String(port), ...args, ...SHORT]);
  return { code: run.code, result: JSON.parse(run.stdout.toString()) as BenchResult, stderr: run.stderr };
}

test('bench --udp against tcpecho server --udp: every datagram echoed and checked, no loss, latencies in the histogram', async (t) => {
  const server = await startUdpEchoServer({ udpRate: 0 });
  t.after(() => server.destroy());
  const r = await runBench({ udp: true, port: server.address.port, connections: 8, size: 1200, durationMs: 1000, warmupMs: 200 });
  assert.equal(r.errorTotal, 0, r.errorSamples.join('; '));
  assert.ok(r.messages > 100, `${r.messages} messages`);
  assert.equal(r.udp?.lost, 0);
  assert.equal(r.udp?.sent, r.udp?.echoed);
  assert.ok(r.latencyUs.p50 > 0);
  assert.equal(r.target, `udp 127.0.0.1:${server.address.port}`);
});

test('bench --udp against a server dropping 10%: the loss is reported (~10%), exit 0', async (t) => {
  const server = await faultyEchoServer(t, { drop: 0.1, seed: 3 });
  const { code, result, stderr } = await cliBench(server.port, ['-c', '20', '-s', '64', '--timeout', '0.05']);
  assert.equal(code, 0, stderr);
  const udp = result.udp;
  assert.ok(udp !== undefined);
  assert.ok(udp.sent > 500, `${udp.sent} sent`);
  assert.ok(udp.lossRate > 0.06 && udp.lossRate < 0.14, `loss ${udp.lossRate}`);
  assert.equal(udp.sent, udp.echoed + udp.lost);
  assert.equal(result.errorTotal, 0);
});

test('bench --udp against a server that corrupts a byte: a mismatch, exit 1', async (t) => {
  const server = await faultyEchoServer(t, { corrupt: 0.01, seed: 5 });
  const { code, result } = await cliBench(server.port, ['-c', '4', '-s', '256']);
  assert.equal(code, 1);
  assert.ok(result.errors.mismatch > 0);
  assert.match(result.errorSamples[0] ?? '', /the echo of datagram \d+ differs/);
});

test('bench --udp tells duplicated and late echoes from lost ones', async (t) => {
  const server = await faultyEchoServer(t, { duplicate: 0.05, delay: 0.05, delayMs: 80, seed: 9 });
  const { code, result } = await cliBench(server.port, ['-c', '10', '-s', '64', '--timeout', '0.04']);
  assert.equal(code, 0);
  const udp = result.udp;
  assert.ok(udp !== undefined);
  assert.ok(udp.duplicated > 0, `duplicated ${udp.duplicated}`);
  assert.ok(udp.late > 0 && udp.lost >= udp.late * 0.5, `late ${udp.late}, lost ${udp.lost}`);
});

test('bench --udp --rate sends that many datagrams a second in all, open loop', async (t) => {
  const server = await startUdpEchoServer({ udpRate: 0 });
  t.after(() => server.destroy());
  const r = await runBench({ udp: true, port: server.address.port, connections: 4, size: 64, rate: 2000, durationMs: 1000, warmupMs: 200 });
  assert.equal(r.errorTotal, 0);
  assert.ok(r.udp !== undefined && r.udp.sent > 1700 && r.udp.sent < 2300, `${r.udp?.sent} sent`);
  assert.equal(r.udp.rate, 2000);
});

test('bench --udp: a size below the 8-byte sequence number is a usage error, exit 2', async () => {
  const run = await runCli(['bench', '--udp', '-s', '4', '127.0.0.1', '9']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /at least 8 bytes with UDP/);
});

test('bench --udp with no server: ends at once with a connect error (ICMP port unreachable), exit 1', async () => {
  const started = performance.now();
  const run = await runCli(['bench', '--udp', '127.0.0.1', '9', '-d', '5', '--json']);
  assert.equal(run.code, 1);
  const result = JSON.parse(run.stdout.toString()) as BenchResult;
  assert.equal(result.errors.connect, 1);
  assert.match(result.errorSamples[0] ?? '', /no UDP echo server at 127\.0\.0\.1:9/);
  assert.ok(performance.now() - started < 4000, 'it did not run its 5 s');
});

test('bench --udp -n against a server that never answers ends once the count stops growing', async (t) => {
  const server = await faultyEchoServer(t, { drop: 1 });
  const run = await runCli(['bench', '--udp', '127.0.0.1', String(server.port), '-n', '100', '--timeout', '0.2', '--warmup', '0', '--json']);
  assert.equal(run.code, 1);
  const result = JSON.parse(run.stdout.toString()) as BenchResult;
  assert.equal(result.messages, 0);
  assert.ok((result.udp?.lost ?? 0) > 0);
});
