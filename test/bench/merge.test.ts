// Merging bench results: the sums, the union of the windows, and percentiles equal to those of
// one histogram fed every latency; the refusals, each with its code.
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { test } from 'node:test';
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { mergeBenchResults, runBench, type BenchResult } from '../../src/bench/index.js';
import { result, type Shape } from '../../src/bench/result.js';
import { HISTOGRAM, Stats } from '../../src/bench/stats.js';
import { startTestServer } from '../helpers/server.js';
import { within } from '../helpers/timeout.js';

const SHAPE: Shape = { mode: 'pingpong', target: '10.0.0.1:7007', transport: 'tcp', tls: false, tlsResume: false, rate: undefined, connections: 4, size: 1024, pipeline: 1, interrupted: false };

/** A deterministic stream of latencies in µs, spread from a few µs to seconds (both sides of the fine-count limit). */
function latencies(seed: number, count: number): number[] {
  let x = seed;
  return Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const u = x / 2 ** 31;
    return Math.max(1, Math.round(20 + u ** 4 * 3_000_000));
  });
}

/**
 * A result of `values` (µs) as a run makes it; with `window`, as if counted in [startMs, endMs]
 * (the rates made again from it by merging it alone, which keeps its length).
 */
function runOf(values: number[], window?: { startMs: number; endMs: number }, shape: Partial<Shape> = {}): BenchResult {
  const stats = new Stats();
  stats.startWindow();
  for (const us of values) stats.recordMessage(us / 1000);
  stats.bytesSent = stats.bytesReceived = values.length * 1024;
  stats.runBytesSent = stats.runBytesReceived = (values.length + 8) * 1024;
  stats.connections = values.length % 7;
  stats.endWindow();
  stats.cpuUs = { user: 1000 + values.length, system: 500 };
  const r = result(stats, { ...SHAPE, ...shape });
  return window === undefined ? r : mergeBenchResults([{ ...r, windows: [window], durationS: (window.endMs - window.startMs) / 1000 }]);
}

const A = latencies(1, 5000);
const B = latencies(2, 20_000);
const C = latencies(3, 800);

test('merged counts are the sums, and every percentile is that of one histogram fed every latency', () => {
  const runs = [runOf(A, { startMs: 1000, endMs: 3000 }), runOf(B, { startMs: 2000, endMs: 5000 }, { connections: 10 }), runOf(C, { startMs: 2500, endMs: 4000 })];
  const merged = mergeBenchResults(runs);
  assert.equal(merged.messages, A.length + B.length + C.length);
  assert.equal(merged.connections, 18);
  for (const key of ['bytesSent', 'bytesReceived', 'connectionsCompleted', 'cpuUserUs', 'cpuSystemUs', 'runBytesSent', 'runBytesReceived'] as const) {
    assert.equal(merged.counts[key], runs.reduce((total, r) => total + r.counts[key], 0), key);
  }
  const one = build(HISTOGRAM);
  for (const us of [...A, ...B, ...C]) one.recordValue(us);
  const max = Math.max(...A, ...B, ...C);
  assert.equal(merged.latencyUs.max, max);
  assert.equal(merged.latencyUs.min, Math.min(...A, ...B, ...C));
  for (const [key, percentile] of [['p50', 50], ['p90', 90], ['p99', 99], ['p999', 99.9]] as const) {
    assert.equal(merged.latencyUs[key], Math.min(one.getValueAtPercentile(percentile), max), key);
  }
  assert.equal(merged.latencyUs.mean, one.mean);
  // Overlapping windows: one span of 4 s; the rates over it.
  assert.deepEqual(merged.windows, [{ startMs: 1000, endMs: 5000 }]);
  assert.equal(merged.durationS, 4);
  assert.equal(merged.messagesPerS, merged.messages / 4);
  assert.equal(merged.mibPerS, merged.counts.bytesReceived / 4 / 2 ** 20);
  assert.equal(merged.cpuPercent.user, merged.counts.cpuUserUs / 4 / 1e4);
  assert.equal(merged.runs.length, 3);
});

test('the rates are over the union of the windows: a gap between runs is not counted', () => {
  const merged = mergeBenchResults([
    runOf(A, { startMs: 10_000, endMs: 12_000 }),
    runOf(C, { startMs: 20_000, endMs: 21_000 }),
    runOf(B, { startMs: 11_000, endMs: 11_500 }), // inside the first
  ]);
  assert.deepEqual(merged.windows, [{ startMs: 10_000, endMs: 12_000 }, { startMs: 20_000, endMs: 21_000 }]);
  assert.equal(merged.durationS, 3);
  assert.equal(merged.messagesPerS, (A.length + B.length + C.length) / 3);
});

test('a result merged alone is itself; merging merged results gives what merging all at once does', () => {
  const run = runOf(A);
  assert.deepEqual(mergeBenchResults([run]), run);
  const a = runOf(A, { startMs: 1000, endMs: 3000 });
  assert.equal(a.messagesPerS, A.length / 2);
  const b = runOf(B, { startMs: 2000, endMs: 5000 });
  const c = runOf(C, { startMs: 7000, endMs: 8000 });
  const all = mergeBenchResults([a, b, c]);
  assert.deepEqual(mergeBenchResults([mergeBenchResults([a, b]), c]), all);
  // And through JSON, as the files of `tcpecho bench merge` carry them.
  assert.deepEqual(mergeBenchResults(JSON.parse(JSON.stringify([a, b, c])) as BenchResult[]), all);
});

test('errors and their samples add up; an interrupted run makes the merge interrupted', () => {
  const a = runOf(A, { startMs: 0, endMs: 1000 });
  const b = { ...runOf(C, { startMs: 0, endMs: 1000 }), interrupted: true, errors: { ...a.errors, reset: 2, timeout: 1 }, errorSamples: ['reset: ECONNRESET', 'reset: ECONNRESET', 'timeout: no echo'] };
  const c = { ...runOf(C, { startMs: 0, endMs: 1000 }), errors: { ...a.errors, mismatch: 4 }, errorSamples: ['mismatch: 1', 'mismatch: 2', 'mismatch: 3', 'mismatch: 4'] };
  const merged = mergeBenchResults([a, b, c]);
  assert.equal(merged.errorTotal, 7);
  assert.deepEqual(merged.errors, { ...a.errors, reset: 2, timeout: 1, mismatch: 4 });
  assert.equal(merged.errorSamples.length, 5);
  assert.equal(merged.interrupted, true);
});

test('UDP results merge too: datagram counts added, the loss rate of the sum; rates added', () => {
  const udp = (sent: number, lost: number) => ({ sent, echoed: sent - lost, lost, late: 1, duplicated: 2, reordered: 3, lossRate: lost / sent, rate: 500 });
  const shape = { transport: 'udp' as const, target: 'udp 10.0.0.1:7007', rate: 500 };
  const a = { ...runOf(A, undefined, shape), udp: udp(1000, 10) };
  const b = { ...runOf(C, undefined, shape), udp: udp(3000, 290) };
  const merged = mergeBenchResults([a, b]);
  assert.deepEqual(merged.udp, { sent: 4000, echoed: 3700, lost: 300, late: 2, duplicated: 4, reordered: 6, lossRate: 0.075, rate: 1000 });
  assert.equal(merged.rate, 1000);
});

test('results of different runs are refused, naming what differs', () => {
  const a = runOf(A, { startMs: 0, endMs: 1000 });
  const differing: Array<[Partial<Shape>, RegExp]> = [
    [{ mode: 'stream', pipeline: undefined as unknown as number }, /mode `stream`, not `pingpong`/],
    [{ size: 64 }, /size `64`, not `1024`/],
    [{ transport: 'unix' }, /transport `unix`, not `tcp`/],
    [{ tls: true }, /tls `true`, not `false`/],
    [{ pipeline: 16 }, /pipeline `16`, not `1`/],
    [{ rate: 100 }, /results\[1\] ran at a fixed rate \(--rate\), results\[0\] did not/],
  ];
  for (const [shape, message] of differing) {
    const b = runOf(C, { startMs: 0, endMs: 1000 }, shape);
    assert.throws(() => mergeBenchResults([a, b]), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TCPECHO_ERR_MERGE');
      assert.match(err.message, /^Cannot merge results\[1\] with results\[0\]: /);
      assert.match(err.message, message);
      return true;
    });
  }
  // The same run twice (a file given twice, or a merged file beside its parts).
  assert.throws(() => mergeBenchResults([a, runOf(C, { startMs: 0, endMs: 1 }), a]), { code: 'TCPECHO_ERR_MERGE', message: /results\[2\] with results\[0\]: both hold run / });
  assert.throws(() => mergeBenchResults([mergeBenchResults([a, runOf(C, { startMs: 0, endMs: 1 })]), a]), { code: 'TCPECHO_ERR_MERGE', message: /both hold run/ });
  assert.throws(() => mergeBenchResults([]), { code: 'TCPECHO_ERR_MERGE', message: /No results to merge/ });
});

test('what is not a bench result of this version is refused with the field that is wrong', () => {
  const a = runOf(A, { startMs: 0, endMs: 1000 });
  const cases: Array<[unknown, RegExp]> = [
    [null, /results\[0\]: not a `tcpecho bench --json` result \(not a JSON object\)/],
    [[a], /not a JSON object/],
    [{ ...a, format: undefined }, /no `format`; from an older tcpecho\?/],
    [{ ...a, format: 'tcpecho-bench/2' }, /format `tcpecho-bench\/2`, expected `tcpecho-bench\/1`/],
    [{ ...a, messages: -1 }, /expected `messages` to be a count, got `-1`/],
    [{ ...a, counts: { ...a.counts, bytesSent: '5' } }, /expected `counts.bytesSent` to be a count, got `"5"`/],
    [{ ...a, errors: { ...a.errors, reset: undefined } }, /expected `errors.reset` to be a count, got `nothing`/],
    [{ ...a, windows: [{ startMs: 5, endMs: 4 }] }, /expected `windows` to be a list/],
    [{ ...a, runs: [] }, /expected `runs` to be a list of run ids/],
    [{ ...a, mode: 'flood' }, /expected `mode` to be `pingpong`, `stream`, `connect`/],
    [{ ...a, transport: 'udp' }, /expected `udp.sent` to be a count/],
    [{ ...a, latencyHistogram: 'bm90IGEgaGlzdG9ncmFt' }, /`latencyHistogram` is not an HdrHistogram compressed base64 encoding/],
    [{ ...a, messages: a.messages + 1 }, new RegExp(`\`latencyHistogram\` holds ${a.messages} latencies, but \`messages\` is ${a.messages + 1}`)],
    [{ ...a, latencyHistogram: encodeIntoCompressedBase64(build({ numberOfSignificantValueDigits: 2 })), messages: 0 }, /not of the shape tcpecho records/],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => mergeBenchResults([value as BenchResult]), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TCPECHO_ERR_MERGE', err.message);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('a histogram that inflates past any of ours is refused without being inflated whole', () => {
  const a = runOf(A, { startMs: 0, endMs: 1000 });
  // The compressed cookie, then 64 MiB of zeros deflated to a few KiB.
  const body = deflateSync(Buffer.alloc(64 * 2 ** 20));
  const head = Buffer.alloc(8);
  head.writeInt32BE(0x1c849314, 0);
  head.writeInt32BE(body.length, 4);
  const bomb = Buffer.concat([head, body]).toString('base64');
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => mergeBenchResults([{ ...a, latencyHistogram: bomb }]), { code: 'TCPECHO_ERR_MERGE', message: /not an HdrHistogram compressed base64 encoding/ });
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 2 ** 20);
});

test('three runBench runs at once against one server, merged: sums and the server\'s bytes agree', async (t) => {
  const server = await startTestServer(t);
  let echoed = 0;
  server.on('disconnect', (info) => (echoed += info.bytesWritten));
  const options = { port: server.address.port, connections: 3, size: 512, durationMs: 500, warmupMs: 100, timeoutMs: 2000 };
  const runs = await within(Promise.all([runBench(options), runBench(options), runBench({ ...options, connections: 2 })]), 20_000, 'three runs');
  const merged = mergeBenchResults(runs);
  assert.equal(merged.errorTotal, 0, JSON.stringify(merged.errorSamples));
  assert.equal(merged.messages, runs.reduce((total, r) => total + r.messages, 0));
  assert.equal(merged.connections, 8);
  assert.ok(merged.counts.runBytesReceived > merged.counts.bytesReceived);
  await server.close();
  assert.equal(echoed, merged.counts.runBytesReceived);
});

test('a threaded run is one run: one id, its histogram holds every thread\'s messages, its window the longest thread\'s', async (t) => {
  const server = await startTestServer(t);
  const run = await within(runBench({ port: server.address.port, connections: 4, threads: 2, size: 256, durationMs: 400, warmupMs: 0, timeoutMs: 2000 }), 20_000, 'threaded run');
  assert.equal(run.errorTotal, 0, JSON.stringify(run.errorSamples));
  assert.equal(run.runs.length, 1);
  assert.equal(run.transport, 'tcp');
  assert.equal(decodeFromCompressedBase64(run.latencyHistogram).totalCount, run.messages);
  const [window] = run.windows as [{ startMs: number; endMs: number }];
  assert.ok(Math.abs((window.endMs - window.startMs) / 1000 - run.durationS) < 1e-6, `${JSON.stringify(window)} against ${run.durationS} s`);
  assert.deepEqual(mergeBenchResults([run]), run);
});
