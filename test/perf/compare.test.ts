// `npm run bench:compare`: its options, its table, the C driver, and that pinning really puts each
// server on its CPU. The figures are the benchmark's business: here every run is a fraction of a
// second.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { C_BENCH_VARIABLE, findCTools } from '../../perf/c-tools.js';
import { plainServer, tcpechoServer, type ServerSpec } from '../../perf/servers.js';
import { collect } from '../helpers/cli.js';
import { childrenOf, cpusAllowed } from '../helpers/process.js';
import { until } from '../helpers/timeout.js';

const COMPARE = fileURLToPath(new URL('../../perf/compare.js', import.meta.url));
const QUICK = ['--rounds', '1', '--duration', '0.3', '--warmup', '0', '--idle', '50', '--no-loadgen', '--only', 'tcpecho event'];
/** Why the C-driver test cannot run here, if it cannot: the tools are found as the script finds them. */
const NO_LOADGEN = findCTools().missing.loadgen;
/** This environment without the C tools' variable. */
const { [C_BENCH_VARIABLE]: _, ...WITHOUT_C_TOOLS } = process.env;

function compare(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [COMPARE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  return collect(child, null, 60_000, `bench:compare ${args.join(' ')}`);
}

/** The table's rows, by workload and metric: the cells after them (the driver first). */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells.length >= 3 && cells[0] !== 'workload' && !cells[0]?.startsWith('---')) rows.set(`${cells[0]} | ${cells[1]}`, cells.slice(2));
  }
  return rows;
}

/** A table cell's figure: `12,345.6` is 12345.6. */
const figure = (cell: string | undefined): number => Number((cell ?? '').replaceAll(',', ''));

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-compare-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'results.md');
}

for (const [args, message] of [
  [['--rounds', '0'], /^bench:compare: --rounds must be a whole number of at least 1\nusage: npm run bench:compare/],
  [['--duration', 'soon'], /^bench:compare: --duration must be a number of seconds\nusage:/],
  [['--rounds'], /^bench:compare: Option '--rounds <value>' argument missing\nusage:/],
  [['--fast'], /^bench:compare: Unknown option '--fast'.*\nusage:/],
  [['--driver', 'perl'], /^bench:compare: --driver must be node or loadgen, not perl\nusage:/],
  [['--only', 'tcpecho nosuch'], /^bench:compare: --only: no server named tcpecho nosuch \(have: .*\)\nusage:/],
] as const) {
  test(`bench:compare ${args.join(' ')}: one line and the usage, exit 2, nothing run`, async () => {
    const result = await compare([...args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 2, result.stderr);
    assert.equal(result.stdout.length, 0);
  });
}

test('bench:compare --help: the usage, the drivers and where the C tools are looked for, exit 0', async () => {
  const result = await compare(['--help']);
  assert.equal(result.code, 0, result.stderr);
  const help = result.stdout.toString();
  assert.match(help, /^usage: npm run bench:compare -- /);
  assert.match(help, /--driver loadgen .*C load generator/);
  assert.match(help, new RegExp(`--c-bench DIR .*\\$${C_BENCH_VARIABLE}`));
});

test('bench:compare --driver loadgen without the C tools: one line saying where they were looked for, exit 2', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'tcpecho-no-c-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  for (const [env, line] of [
    [WITHOUT_C_TOOLS, new RegExp(`^bench:compare: --driver loadgen needs the C load generator: loadgen: no C tools directory \\(set ${C_BENCH_VARIABLE}=DIR or pass --c-bench DIR`)],
    [{ ...WITHOUT_C_TOOLS, [C_BENCH_VARIABLE]: empty }, new RegExp(`: loadgen: ${join(empty, 'loadgen')} is not there or not executable \\(build it: make -C `)],
  ] as const) {
    const result = await compare([...QUICK, '--driver', 'loadgen'], env);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, line);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.equal(result.stdout.length, 0);
  }
});

test("bench:compare --only 'tcpecho event unix': the Unix rows alone, tcpecho on a Unix socket against the plain server on one", async (t) => {
  const out = tempFile(t);
  const result = await compare(['--rounds', '1', '--duration', '0.3', '--warmup', '0', '--no-loadgen', '--only', 'tcpecho event unix', '--out', out], WITHOUT_C_TOOLS);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(out, 'utf8');
  assert.match(written, /^## Unix domain sockets; ratio = tcpecho \/ the plain node server on a Unix socket$/m);
  assert.doesNotMatch(written, /^## Servers/m);
  assertPairTable(written, ['unix pingpong c=50 1 KiB | msg/s', 'unix pingpong c=50 1 KiB | p99 µs (lower is better)', 'unix stream c=4 64 KiB | MiB/s']);
});

/**
 * A table of two servers, the one measured and its baseline: exactly these rows, each driven by
 * tcpecho bench, both figures above zero and a ratio between them.
 */
function assertPairTable(written: string, keys: string[]): void {
  const rows = tableRows(written);
  assert.deepEqual([...rows.keys()], keys);
  for (const [key, cells] of rows) {
    assert.deepEqual([cells.length, cells[0]], [4, 'tcpecho bench'], key);
    assert.ok(figure(cells[1]) > 0 && figure(cells[3]) > 0, `${key}: ${cells.join(', ')}`);
    assert.match(cells[2] as string, /^\d+\.\d\dx$/, key);
  }
}

test("bench:compare --only 'tcpecho event metrics': the metrics rows alone, event mode with --metrics-port against without", async (t) => {
  const out = tempFile(t);
  const result = await compare(['--rounds', '1', '--duration', '0.3', '--warmup', '0', '--no-loadgen', '--only', 'tcpecho event metrics', '--out', out], WITHOUT_C_TOOLS);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(out, 'utf8');
  assert.match(written, /^## Metrics; ratio = tcpecho event with `--metrics-port 0` \/ without$/m);
  assert.doesNotMatch(written, /^## (Servers|TLS|Unix)/m);
  assertPairTable(written, ['pingpong c=50 1 KiB | msg/s', 'pingpong c=50 1 KiB | p99 µs (lower is better)', 'connect c=8 64 B | conn/s']);
});

test('bench:compare writes a table of every workload, each figure with its driver and its ratio to the plain server', async (t) => {
  const out = tempFile(t);
  // Without the C tools: what needs them is left out, and the results say so.
  const result = await compare([...QUICK, '--out', out], WITHOUT_C_TOOLS);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(out, 'utf8');
  assert.equal(result.stdout.toString(), written);
  assert.match(written, /^Measured \d{4}-\d\d-\d\d \d\d:\d\d UTC with `npm run bench:compare -- --rounds 1 .*` \(1 rounds, 0\.3 s per run/m);
  assert.match(written, /^Driver tcpecho bench \(every byte verified\), on the same cores as the servers/m);
  assert.match(written, new RegExp(`^Left out, the C tools not found: refecho: no C tools directory \\(set ${C_BENCH_VARIABLE}=DIR`, 'm'));
  assert.match(result.stderr, /^bench:compare: leaving out what needs loadgen: no C tools directory/m);
  const rows = tableRows(written);
  for (const key of ['pingpong c=50 1 KiB | msg/s', 'pingpong c=50 16 KiB | p99 µs (lower is better)', 'stream c=4 64 KiB | MiB/s', 'pingpong c=50 1 KiB, 2 threads | msg/s', 'connect 5/s 64 B | p90 µs (lower is better)']) {
    const cells = rows.get(key);
    assert.ok(cells, `no row ${key} in\n${written}`);
    // The driver, tcpecho event, its ratio, plain node.
    assert.deepEqual([cells.length, cells[0]], [4, 'tcpecho bench'], key);
    assert.match(cells[2] as string, /^\d+\.\d\dx$/, key);
    const [event, plain] = [figure(cells[1]), figure(cells[3])];
    assert.ok(event > 0 && plain > 0, `${key}: ${cells.join(', ')}`);
    // The ratio is of the unrounded medians.
    assert.ok(Math.abs(Number.parseFloat(cells[2] as string) - event / plain) < 0.02, `${key}: ${cells.join(', ')}`);
  }
  // RSS growth over 50 idle connections can be 0 or below (memory comes in pages): a ratio to a
  // base of 0 is none, and the cell says so; any other base gives a ratio.
  const idle = rows.get('50 idle connections | RSS KiB/conn (lower is better)');
  assert.ok(idle, written);
  assert.equal(idle[0], 'idle sockets');
  const [event, plain] = [figure(idle[1]), figure(idle[3])];
  assert.ok(Number.isFinite(event) && Number.isFinite(plain), idle.join(', '));
  if (idle[2] === 'n/a') assert.ok(plain <= 0.05, `n/a beside a plain figure of ${plain}`);
  else {
    assert.match(idle[2] as string, /^-?\d+\.\d\dx$/);
    // The printed figures are rounded to 0.1 KiB: compare only where that rounding is small.
    if (plain >= 1) assert.ok(Math.abs(Number.parseFloat(idle[2] as string) - event / plain) < 0.1 * Math.max(1, Math.abs(event / plain)), idle.join(', '));
  }
});

test('bench:compare --pin: the header says where each side ran, and the two-thread rows are left out', { skip: cpus().length < 2 }, async (t) => {
  const out = tempFile(t);
  const result = await compare([...QUICK, '--idle', '0', '--pin', '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(out, 'utf8');
  assert.match(written, /^Driver tcpecho bench .*pinned \(`--pin`\): every server, with every process it starts, on CPU 0; the generator on CPU 1\.$/m);
  const rows = tableRows(written);
  assert.equal(rows.get('pingpong c=50 1 KiB | msg/s')?.[0], 'tcpecho bench', written);
  assert.ok(![...rows.keys()].some((key) => key.includes('2 threads')), written);
});

test('bench:compare --driver loadgen: the C generator drives every row it can, the rest say tcpecho bench', { skip: cpus().length < 2 ? 'needs two CPUs' : NO_LOADGEN ?? false }, async (t) => {
  const out = tempFile(t);
  const result = await compare([...QUICK, '--idle', '0', '--driver', 'loadgen', '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  const written = readFileSync(out, 'utf8');
  assert.match(written, /^Driver `--driver loadgen`: the C load generator .* on CPU 1; every server, with every process it starts, on CPU 0\./m);
  const rows = tableRows(written);
  for (const key of ['pingpong c=1 64 B | p99 µs (lower is better)', 'pingpong c=50 1 KiB | msg/s', 'stream c=4 64 KiB | MiB/s', 'connect c=8 64 B | conn/s']) {
    const cells = rows.get(key);
    assert.equal(cells?.[0], 'C loadgen', `${key} in\n${written}`);
    assert.ok(figure(cells?.[1]) > 0 && figure(cells?.[3]) > 0, `${key}: ${cells?.join(', ')}`);
  }
  assert.equal(rows.get('connect 5/s 64 B | p50 µs (lower is better)')?.[0], 'tcpecho bench', written);
  assert.ok(![...rows.keys()].some((key) => key.includes('2 threads')), written);
});

for (const spec of [tcpechoServer('event'), tcpechoServer('cluster', ['--workers', '2']), plainServer] as ServerSpec[]) {
  test(`a compared server started on a CPU runs there, with every process it starts: ${spec.name}`, { skip: cpus().length < 2 }, async (t) => {
    const server = await spec.start(1);
    t.after(() => server.stop());
    assert.equal(cpusAllowed(server.pid), '1');
    if (spec.name.includes('cluster')) {
      await until(() => childrenOf(server.pid).length === 2, 10_000, () => `2 workers (have ${childrenOf(server.pid).length})`);
      for (const worker of childrenOf(server.pid)) assert.equal(cpusAllowed(worker), '1');
    }
  });
}
