// `npm run bench:compare`: its options, its table, and that --pin really puts each server on its
// CPU. The figures are the benchmark's business: here every run is a fraction of a second.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { plainServer, tcpechoServer, type ServerSpec } from '../../bench/servers.js';
import { collect } from '../helpers/cli.js';
import { until } from '../helpers/timeout.js';

const COMPARE = fileURLToPath(new URL('../../bench/compare.js', import.meta.url));
const QUICK = ['--rounds', '1', '--duration', '0.3', '--warmup', '0', '--idle', '50', '--no-loadgen', '--only', 'tcpecho event'];

function compare(args: string[]) {
  const child = spawn(process.execPath, [COMPARE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child, null, 60_000, `bench:compare ${args.join(' ')}`);
}

/** The table's rows, by workload and metric: the cells after them. */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells.length >= 3 && cells[0] !== 'workload' && !cells[0]?.startsWith('---')) rows.set(`${cells[0]} | ${cells[1]}`, cells.slice(2));
  }
  return rows;
}

for (const [args, message] of [
  [['--rounds', '0'], /^bench:compare: --rounds must be a whole number of at least 1\nusage: npm run bench:compare/],
  [['--duration', 'soon'], /^bench:compare: --duration must be a number of seconds\nusage:/],
  [['--rounds'], /^bench:compare: Option '--rounds <value>' argument missing\nusage:/],
  [['--fast'], /^bench:compare: Unknown option '--fast'.*\nusage:/],
] as const) {
  test(`bench:compare ${args.join(' ')}: one line and the usage, exit 2, nothing run`, async () => {
    const result = await compare([...args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 2, result.stderr);
    assert.equal(result.stdout.length, 0);
  });
}

test('bench:compare writes a table of every workload, each figure with its ratio to the plain server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-compare-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const result = await compare([...QUICK, '--out', join(dir, 'results.md')]);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(join(dir, 'results.md'), 'utf8');
  assert.equal(result.stdout.toString(), written);
  assert.match(written, /^Measured \d{4}-\d\d-\d\d with `npm run bench:compare` \(1 rounds, 0\.3 s per run/m);
  assert.match(written, /runs on the same cores as the servers/);
  const rows = tableRows(written);
  for (const key of ['pingpong c=50 1 KiB | msg/s', 'pingpong c=50 16 KiB | p99 µs (lower is better)', 'stream c=4 64 KiB | MiB/s', 'pingpong c=50 1 KiB, 2 threads | msg/s', '50 idle connections | RSS KiB/conn (lower is better)']) {
    const cells = rows.get(key);
    assert.ok(cells, `no row ${key} in\n${written}`);
    // tcpecho event, its ratio, plain node.
    assert.equal(cells.length, 3, key);
    assert.match(cells[1] as string, /^\d+\.\d\dx$/, key);
    const [event, plain] = [cells[0], cells[2]].map((cell) => Number((cell as string).replaceAll(',', ''))) as [number, number];
    // RSS growth over 50 connections can round to 0 (or below): memory comes in pages.
    if (key.includes('idle')) {
      assert.ok(Number.isFinite(event) && Number.isFinite(plain), `${key}: ${cells.join(', ')}`);
      continue;
    }
    assert.ok(event > 0 && plain > 0, `${key}: ${cells.join(', ')}`);
    // The ratio is of the unrounded medians.
    assert.ok(Math.abs(Number.parseFloat(cells[1] as string) - event / plain) < 0.02, `${key}: ${cells.join(', ')}`);
  }
});

test('bench:compare --pin: the header says where each side ran, and the two-thread rows are left out', { skip: cpus().length < 2 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-compare-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const result = await compare([...QUICK, '--idle', '0', '--pin', '--out', join(dir, 'results.md')]);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(join(dir, 'results.md'), 'utf8');
  assert.match(written, /Pinned \(`--pin`\): every server, with every process it starts, on CPU 1; the load generator .* on CPU 0/);
  const rows = tableRows(written);
  assert.ok(rows.has('pingpong c=50 1 KiB | msg/s'), written);
  assert.ok(![...rows.keys()].some((key) => key.includes('2 threads')), written);
});

for (const spec of [tcpechoServer('event'), tcpechoServer('cluster', ['--workers', '2']), plainServer] as ServerSpec[]) {
  test(`a compared server started on a CPU runs there, with every process it starts: ${spec.name}`, { skip: cpus().length < 2 }, async (t) => {
    const server = await spec.start(1);
    t.after(() => server.stop());
    const allowed = (pid: number): string => /^Cpus_allowed_list:\s+(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
    const children = (pid: number): number[] =>
      readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    assert.equal(allowed(server.pid), '1');
    if (spec.name.includes('cluster')) {
      await until(() => children(server.pid).length === 2, 10_000, () => `2 workers (have ${children(server.pid).length})`);
      for (const worker of children(server.pid)) assert.equal(allowed(worker), '1');
    }
  });
}
