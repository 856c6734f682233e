// Load from several hosts for real: three generator hosts (network namespaces joined to the
// server host by a bridge) each run `tcpecho bench --json` at once against one server host, and
// `tcpecho bench merge` adds them up. Without namespaces (not root, no `ip`), the three generators
// run on loopback instead, and the test says so.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { build, decodeFromCompressedBase64, type JsHistogram } from 'hdr-histogram-js';
import type { BenchResult } from '../../src/bench/index.js';
import { HISTOGRAM } from '../../src/bench/stats.js';
import { CLI, collect, runCli, spawnServer } from '../helpers/cli.js';
import { inNamespace, makeHosts } from '../helpers/netns.js';
import { until } from '../helpers/timeout.js';

const GENERATORS = 3;
const CONNECTIONS = 4;

test('three generator hosts at once, merged: the sums, the percentiles of one histogram of every latency, and the server\'s own count agree', async (t) => {
  const hosts = await makeHosts(t, GENERATORS);
  const netns = !('unavailable' in hosts);
  if (!netns) t.diagnostic(`${hosts.unavailable}: the three generators run on loopback instead`);
  const server = netns ? await spawnServer(t, [], { netns: hosts.server.ns, host: hosts.server.address }) : await spawnServer(t);
  const target = netns ? hosts.server.address : '127.0.0.1';

  const bench = [process.execPath, CLI, 'bench', target, String(server.port), '-c', String(CONNECTIONS), '-s', '1k', '-d', '1.5', '--warmup', '0.2', '--json'];
  const runs = await Promise.all(Array.from({ length: GENERATORS }, (_, i) => {
    const [command, args] = netns ? inNamespace((hosts.generators[i] as { ns: string }).ns, bench) : [bench[0] as string, bench.slice(1)];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    return collect(child, undefined, 30_000, `generator ${i + 1}`);
  }));
  const results = runs.map((run, i) => {
    assert.equal(run.code, 0, `generator ${i + 1}: ${run.stderr}`);
    return JSON.parse(run.stdout.toString()) as BenchResult;
  });
  for (const r of results) assert.equal(r.errorTotal, 0, JSON.stringify(r.errorSamples));
  // They ran at once: every window overlaps every other.
  for (const a of results) for (const b of results) assert.ok((a.windows[0]?.startMs ?? 0) < (b.windows[0]?.endMs ?? 0), 'windows overlap');

  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-merge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = results.map((_, i) => join(dir, `gen${i + 1}.json`));
  runs.forEach((run, i) => writeFileSync(files[i] as string, run.stdout));
  const merge = await runCli(['bench', 'merge', ...files, '--json']);
  assert.equal(merge.code, 0, merge.stderr);
  const merged = JSON.parse(merge.stdout.toString()) as BenchResult;

  const sum = (pick: (r: BenchResult) => number): number => results.reduce((total, r) => total + pick(r), 0);
  assert.equal(merged.messages, sum((r) => r.messages));
  assert.equal(merged.connections, GENERATORS * CONNECTIONS);
  assert.equal(merged.counts.bytesReceived, sum((r) => r.counts.bytesReceived));
  assert.equal(merged.counts.runBytesReceived, sum((r) => r.counts.runBytesReceived));
  assert.deepEqual(merged.runs, results.flatMap((r) => r.runs));
  // The rates are over the union of the windows, which here is one span.
  const start = Math.min(...results.map((r) => (r.windows[0] as { startMs: number }).startMs));
  const end = Math.max(...results.map((r) => (r.windows[0] as { endMs: number }).endMs));
  assert.deepEqual(merged.windows, [{ startMs: start, endMs: end }]);
  assert.ok(Math.abs(merged.messagesPerS - merged.messages / ((end - start) / 1000)) < 1e-6 * merged.messagesPerS);

  // One histogram fed every latency of the three, value by value (the library's own iteration).
  const every = build(HISTOGRAM);
  for (const r of results) {
    const h = decodeFromCompressedBase64(r.latencyHistogram) as JsHistogram;
    assert.equal(h.totalCount, r.messages);
    const values = h.recordedValuesIterator;
    values.reset();
    while (values.hasNext()) {
      const v = values.next();
      every.recordValueWithCount(v.valueIteratedTo, v.countAtValueIteratedTo);
    }
  }
  const max = Math.max(...results.map((r) => r.latencyUs.max));
  assert.equal(every.totalCount, merged.messages);
  for (const [key, percentile] of [['p50', 50], ['p90', 90], ['p99', 99], ['p999', 99.9]] as const) {
    assert.equal(merged.latencyUs[key], Math.min(every.getValueAtPercentile(percentile), max), key);
  }
  assert.equal(merged.latencyUs.max, max);
  assert.equal(merged.latencyUs.min, Math.min(...results.map((r) => r.latencyUs.min)));

  // The server's own count: the bytes of its close lines, one per connection, are every byte the
  // generators had echoed over their whole runs (warm-up and drain included).
  const closes = (): RegExpExecArray[] => server.lines.map((line) => /\bclose #\d+ (\S+):\d+ .*\bbytes=(\d+) .*reason=eof/.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  await until(() => closes().length === GENERATORS * CONNECTIONS, 10_000, () => `${GENERATORS * CONNECTIONS} close lines, got ${server.lines.join(' | ')}`);
  assert.equal(closes().reduce((total, m) => total + Number(m[2]), 0), merged.counts.runBytesReceived);
  if (netns) {
    // Each generator host's connections came from its own address.
    const peers = closes().map((m) => m[1]).sort();
    const expected = hosts.generators.flatMap((host) => Array<string>(CONNECTIONS).fill(host.address)).sort();
    assert.deepEqual(peers, expected);
  }
});
