// `npm run bench:compare`: every tcpecho server mode and a plain Node echo server, side by side,
// driven by `tcpecho bench` on the same workloads, alternating over several rounds; prints a table
// of medians with each one's ratio to the plain server and writes it to bench/results.md.
//
//   npm run bench:compare -- [--rounds 3] [--duration 4] [--warmup 1] [--idle 10000] [--no-loadgen | --loadgen-only]
//                            [--only 'tcpecho event,tcpecho fork'] [--pin] [--out FILE]   (the plain server always runs)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { BenchResult } from '../src/bench/index.js';
import { CLI, OUT, ROOT, SHARED_BENCH, onCpu, plainServer, refechoServer, socatServer, tcpechoServer, type ServerSpec } from './servers.js';
import { forkChildFigures } from './fork-children.js';

const USAGE = "usage: npm run bench:compare -- [--rounds N] [--duration S] [--warmup S] [--idle N] [--no-loadgen | --loadgen-only] [--only 'NAME,...'] [--pin] [--out FILE]";

/** A usage error: one line and the usage, not a stack trace (exit 2, as the CLI's usage errors). */
function usageError(message: string): never {
  process.stderr.write(`bench:compare: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        rounds: { type: 'string', default: '3' },
        duration: { type: 'string', default: '4' },
        warmup: { type: 'string', default: '1' },
        idle: { type: 'string', default: '10000' },
        'no-loadgen': { type: 'boolean', default: false },
        'loadgen-only': { type: 'boolean', default: false },
        only: { type: 'string' },
        pin: { type: 'boolean', default: false },
        out: { type: 'string' },
      },
    });
  } catch (err) {
    return usageError((err as Error).message.split('\n')[0] as string);
  }
}

/** `--rounds` and `--idle` take a whole number (at least `min`), the others seconds. */
function checkNumber(option: string, text: string, whole: boolean, min: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || (whole && !Number.isInteger(value))) {
    usageError(`${option} must be ${whole ? (min > 0 ? `a whole number of at least ${min}` : 'a whole number') : 'a number of seconds'}`);
  }
  return value;
}

const { values } = parseOptions();
const ROUNDS = checkNumber('--rounds', values.rounds, true, 1);
const DURATION = values.duration;
checkNumber('--duration', DURATION, false, 0);
const WARMUP = values.warmup;
checkNumber('--warmup', WARMUP, false, 0);
const IDLE = checkNumber('--idle', values.idle, true, 0);

/**
 * Whether this machine can pin: two CPUs or more, and taskset. When it can, the generator table
 * always gets pinned rows too (each generator on CPU 0, refecho on CPU 1): unpinned, the
 * scheduler sometimes puts a generator's threads (Node's helpers, or the main thread itself) on
 * the server's core for a while, and the same pair measured 132-165k msg/s from one run to the
 * next; pinned, 169-176k.
 */
const CAN_PIN = os.cpus().length >= 2 && ['/usr/bin/taskset', '/bin/taskset'].some((path) => existsSync(path));
if (values.pin && !CAN_PIN) usageError('--pin needs two CPUs and taskset');

/**
 * With --pin, every server (with every process it starts) runs on CPU 1 and the generator on
 * CPU 0, as a server and a client on two machines would have a CPU each; the same for every
 * server. Unpinned, the scheduler moves the generator's and the server's threads (Node's helpers
 * included) between the two cores, and where they land changes a run's figures.
 */
const SERVER_CPU = values.pin ? 1 : undefined;
const GENERATOR_CPU = values.pin ? 0 : undefined;

interface Workload {
  name: string;
  args: string[];
  /** The figures this workload reports, from a bench result. */
  metrics: Record<string, (r: BenchResult) => number>;
}

const ALL_WORKLOADS: Workload[] = [
  { name: 'pingpong c=1 64 B', args: ['-m', 'pingpong', '-c', '1', '-s', '64'], metrics: { 'msg/s': (r) => r.messagesPerS, 'p50 µs': (r) => r.latencyUs.p50, 'p99 µs': (r) => r.latencyUs.p99 } },
  { name: 'pingpong c=50 1 KiB', args: ['-m', 'pingpong', '-c', '50', '-s', '1k'], metrics: { 'msg/s': (r) => r.messagesPerS, 'p99 µs': (r) => r.latencyUs.p99 } },
  { name: 'pingpong c=50 16 KiB', args: ['-m', 'pingpong', '-c', '50', '-s', '16k'], metrics: { 'msg/s': (r) => r.messagesPerS, 'p99 µs': (r) => r.latencyUs.p99 } },
  { name: 'stream c=4 64 KiB', args: ['-m', 'stream', '-c', '4', '-s', '64k'], metrics: { 'MiB/s': (r) => r.mibPerS } },
  // The same two loads from a generator on both cores (`--threads 2`), as the server's processes
  // may be: a single-threaded generator holds one core, and a second server process has none left.
  { name: 'pingpong c=50 1 KiB, 2 threads', args: ['-m', 'pingpong', '-c', '50', '-s', '1k', '-t', '2'], metrics: { 'msg/s': (r) => r.messagesPerS, 'p99 µs': (r) => r.latencyUs.p99 } },
  { name: 'stream c=4 64 KiB, 2 threads', args: ['-m', 'stream', '-c', '4', '-s', '64k', '-t', '2'], metrics: { 'MiB/s': (r) => r.mibPerS } },
  { name: 'connect c=8 64 B', args: ['-m', 'connect', '-c', '8', '-s', '64'], metrics: { 'conn/s': (r) => r.connectionsPerS, 'p50 µs': (r) => r.latencyUs.p50 } },
  // Clients arriving one at a time, 5 a second: the connect-to-first-echo latency a person sees.
  { name: 'connect 5/s 64 B', args: ['-m', 'connect', '--rate', '5', '-c', '8', '-s', '64'], metrics: { 'p50 µs': (r) => r.latencyUs.p50, 'p90 µs': (r) => r.latencyUs.p90 } },
];
// Two generator threads on one CPU measure nothing.
const WORKLOADS = ALL_WORKLOADS.filter((w) => !(values.pin && w.args.includes('-t')));

/** Higher is better for rates, lower for latencies and memory. */
const lowerIsBetter = (metric: string): boolean => /µs|KiB\/conn/.test(metric);

/** A bench run that reported errors (its exit code 1), or whose process died of a signal. */
class BenchFailure extends Error {}

function bench(port: number, args: string[], cpu?: number): BenchResult {
  let out: string;
  let failed = false;
  try {
    out = execFileSync(...onCpu(cpu, process.execPath, [CLI, 'bench', '127.0.0.1', String(port), ...args, '-d', DURATION, '--warmup', WARMUP, '--json']), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
  } catch (err) {
    // A generator killed by a signal: seen once, Node aborting in a worker thread's teardown
    // (`NodePlatform::ForIsolate` assertion) at the end of a 2-thread run. Not the server's doing.
    const { signal } = err as { signal?: string | null };
    if (signal) throw new BenchFailure(`the generator died of ${signal}`);
    // Exit code 1 with a JSON report: the run found errors. Anything else is a broken comparison.
    out = (err as { stdout?: string }).stdout ?? '';
    if (!out.startsWith('{')) throw err;
    failed = true;
  }
  const result = JSON.parse(out) as BenchResult;
  if (failed || result.errorTotal > 0) throw new BenchFailure(`${result.errorTotal} error(s): ${result.errorSamples.join('; ')}`);
  return result;
}

/** The C load generator's summary: the last line it prints. */
function lastLine(out: string): string {
  return out.trim().split('\n').pop() as string;
}

/**
 * Runs that reported errors or whose generator died, described. Such a run is left out of the
 * medians (a stalled connection makes its figures meaningless) and listed under the tables
 * instead of ending an hour-long comparison; any other failure still ends it.
 */
const failures: string[] = [];

/** `bench`, or undefined (logged and listed in `failures`) when the run failed as BenchFailure. */
function benchOrRecord(port: number, args: string[], what: string, cpu?: number): BenchResult | undefined {
  try {
    return bench(port, args, cpu);
  } catch (err) {
    if (!(err instanceof BenchFailure)) throw err;
    failures.push(`${what}: ${err.message}`);
    process.stderr.write(`    FAILED (left out of the medians): ${err.message}\n`);
    return undefined;
  }
}

/** RSS of `pid` and all its descendants (cluster: the primary and its workers), KiB. */
function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  let total = Number(match?.[1]);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // Gone already.
  }
  for (const child of children) total += rssKiB(Number(child));
  return total;
}

/** Opens `count` idle connections, measures the server's RSS growth per connection, closes them. */
async function idleRssPerConnection(port: number, pid: number, count: number): Promise<number> {
  const before = rssKiB(pid);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i += 250) {
    const batch = Array.from({ length: Math.min(250, count - i) }, () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
    });
    await Promise.all(batch);
  }
  // Let the server accept and set up every one of them.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = rssKiB(pid);
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return ((after - before) * 1024) / count / 1024;
}

type Samples = Map<string, number[]>; // key: `${server}|${workload}|${metric}`

function record(samples: Samples, key: string, value: number): void {
  samples.set(key, [...(samples.get(key) ?? []), value]);
}

function median(values: number[] | undefined): number | undefined {
  if (!values || values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function compareServers(servers: ServerSpec[]): Promise<Samples> {
  const samples: Samples = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so that no server always runs first or last.
    const order = servers.map((_, i) => servers[(i + round) % servers.length] as ServerSpec);
    for (const spec of order) {
      const server = await spec.start(SERVER_CPU);
      try {
        for (const workload of WORKLOADS) {
          process.stderr.write(`round ${round + 1}/${ROUNDS}  ${spec.name.padEnd(14)} ${workload.name}\n`);
          const result = benchOrRecord(server.port, workload.args, `round ${round + 1}, ${spec.name}, ${workload.name}`, GENERATOR_CPU);
          if (result === undefined) continue;
          const figures: string[] = [];
          for (const [metric, pick] of Object.entries(workload.metrics)) {
            const figure = pick(result);
            record(samples, `${spec.name}|${workload.name}|${metric}`, figure);
            figures.push(`${fmt(figure)} ${metric}`);
          }
          // Every run's figures in the log: an outlier behind a median can be seen there.
          process.stderr.write(`    ${figures.join(', ')}\n`);
        }
        if (spec.idle && IDLE > 0) {
          process.stderr.write(`round ${round + 1}/${ROUNDS}  ${spec.name.padEnd(14)} ${IDLE} idle connections\n`);
          record(samples, `${spec.name}|${IDLE} idle connections|RSS KiB/conn`, await idleRssPerConnection(server.port, server.pid, IDLE));
        }
      } finally {
        await server.stop();
      }
    }
  }
  return samples;
}

function serverTable(servers: ServerSpec[], samples: Samples): string {
  const baseline = plainServer.name;
  const rows: string[] = [];
  const header = ['workload', 'metric', ...servers.flatMap((s) => (s.name === baseline ? [s.name] : [s.name, 'ratio']))];
  rows.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  const lines: Array<[string, string]> = [
    ...WORKLOADS.flatMap((w) => Object.keys(w.metrics).map((m) => [w.name, m] as [string, string])),
    ...(IDLE > 0 ? [[`${IDLE} idle connections`, 'RSS KiB/conn'] as [string, string]] : []),
  ];
  for (const [workload, metric] of lines) {
    const base = median(samples.get(`${baseline}|${workload}|${metric}`));
    const cells = servers.flatMap((s) => {
      const value = median(samples.get(`${s.name}|${workload}|${metric}`));
      const digits = metric === 'MiB/s' || metric.includes('KiB/conn') ? 1 : 0;
      if (s.name === baseline) return [fmt(value, digits)];
      const ratio = value !== undefined && base !== undefined && base > 0 ? `${(value / base).toFixed(2)}x` : 'n/a';
      return [fmt(value, digits), ratio];
    });
    rows.push(`| ${workload} | ${metric}${lowerIsBetter(metric) ? ' (lower is better)' : ''} | ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

/**
 * tcpecho bench against the C load generator, both driving the C server; with `pinned`, each
 * generator runs on CPU 0 and the server on CPU 1.
 */
async function loadgenRatios(pinned: boolean): Promise<string[] | undefined> {
  const loadgen = `${SHARED_BENCH}loadgen`;
  const refecho = refechoServer();
  const genCpu = pinned ? 0 : undefined;
  if (!existsSync(loadgen) || refecho === undefined) return undefined;
  const cases = [
    { name: 'pingpong c=50 1 KiB', metric: 'msg/s', c: ['-m', 'pingpong', '-c', '50', '-s', '1024'], ours: ['-m', 'pingpong', '-c', '50', '-s', '1k'], pickC: (j: Record<string, number>) => j.msgs_per_s as number, pickOurs: (r: BenchResult) => r.messagesPerS },
    { name: 'stream c=4 64 KiB', metric: 'MiB/s', c: ['-m', 'stream', '-c', '4', '-s', '65536'], ours: ['-m', 'stream', '-c', '4', '-s', '64k'], pickC: (j: Record<string, number>) => j.mib_per_s as number, pickOurs: (r: BenchResult) => r.mibPerS },
  ];
  const rows: string[] = [];
  const unit = (metric: string): string => (metric === 'msg/s' ? 'µs/msg' : 'µs/MiB');
  for (const shape of cases) {
    const item = { ...shape, name: pinned ? `${shape.name}, pinned` : shape.name };
    const cRuns: number[] = [];
    const ourRuns: number[] = [];
    // CPU time each generator spent per message (per MiB in stream), µs: less at the mercy of the
    // VM's neighbours than the rates are, since it counts only the generator's own work.
    const cCpu: number[] = [];
    const ourCpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const server = await refecho.start(pinned ? 1 : undefined);
      const { port } = server;
      try {
        process.stderr.write(`round ${round + 1}/${ROUNDS}  load generators    ${item.name}\n`);
        // Each run's figure goes to the log too, as the servers' do: the table keeps only medians.
        const runC = (): void => {
          let out: string;
          try {
            out = execFileSync(...onCpu(genCpu, loadgen, ['127.0.0.1', String(port), ...item.c, '-d', DURATION, '-q']), { encoding: 'utf8' });
          } catch (err) {
            // The C generator exits 1 on any error; its summary line is still the last one.
            const stdout = (err as { stdout?: string }).stdout ?? '';
            failures.push(`round ${round + 1}, C loadgen against refecho, ${item.name}: ${stdout === '' ? (err as Error).message : lastLine(stdout)}`);
            process.stderr.write('    C loadgen FAILED (left out of the medians)\n');
            return;
          }
          const summary = JSON.parse(lastLine(out)) as Record<string, number>;
          const figure = item.pickC(summary);
          cRuns.push(figure);
          cCpu.push(((summary.loadgen_cpu_pct as number) / 100 / figure) * 1e6);
          process.stderr.write(`    C loadgen ${fmt(figure)} ${item.metric}, ${fmt(cCpu.at(-1), 2)} ${unit(item.metric)}\n`);
        };
        const runOurs = (): void => {
          const result = benchOrRecord(port, item.ours, `round ${round + 1}, tcpecho bench against refecho, ${item.name}`, genCpu);
          if (result === undefined) return;
          const figure = item.pickOurs(result);
          ourRuns.push(figure);
          ourCpu.push(((result.cpuPercent.user + result.cpuPercent.system) / 100 / figure) * 1e6);
          process.stderr.write(`    tcpecho bench ${fmt(figure)} ${item.metric}, ${fmt(ourCpu.at(-1), 2)} ${unit(item.metric)}\n`);
        };
        // Alternate which generator goes first.
        if (round % 2 === 0) (runC(), runOurs());
        else (runOurs(), runC());
      } finally {
        await server.stop();
      }
    }
    const c = median(cRuns) as number;
    const ours = median(ourRuns) as number;
    const cpuC = median(cCpu) as number;
    const cpuOurs = median(ourCpu) as number;
    rows.push(
      `| ${item.name} | ${item.metric} | ${fmt(c)} | ${fmt(ours)} | ${(ours / c).toFixed(2)}x | ` +
        `${fmt(cpuC, 2)} ${unit(item.metric)} | ${fmt(cpuOurs, 2)} ${unit(item.metric)} | ${(cpuOurs / cpuC).toFixed(2)}x (lower is better) |`,
    );
  }
  return rows;
}

async function main(): Promise<void> {
  if (!existsSync(`${SHARED_BENCH}refecho`) && existsSync(`${SHARED_BENCH}Makefile`)) {
    try {
      execFileSync('make', ['-C', SHARED_BENCH], { stdio: 'ignore' });
    } catch {
      // No compiler or a read-only tree: the C reference rows are left out.
    }
  }
  const servers: ServerSpec[] = [
    tcpechoServer('event'),
    plainServer,
    tcpechoServer('fork'),
    tcpechoServer('fork', ['--spare', '0'], 'no spares'),
    tcpechoServer('cluster'),
    tcpechoServer('cluster', ['--balance', 'shared'], 'shared'),
    tcpechoServer('cluster', ['--workers', '1'], '1 worker'),
  ];
  for (const extra of [refechoServer(), socatServer()]) if (extra) servers.push(extra);
  if (values.only !== undefined) {
    const wanted = new Set(values.only.split(',').map((name) => name.trim()));
    const unknown = [...wanted].filter((name) => !servers.some((spec) => spec.name === name));
    if (unknown.length > 0) throw new Error(`--only: no server named ${unknown.join(', ')} (have: ${servers.map((spec) => spec.name).join(', ')})`);
    // The plain server is the baseline of every ratio.
    servers.splice(0, servers.length, ...servers.filter((spec) => spec === plainServer || wanted.has(spec.name)));
  }

  const started = Date.now();
  const loadgenOnly = values['loadgen-only'];
  if (loadgenOnly) servers.splice(0, servers.length);
  const samples = await compareServers(servers);
  const children = servers.some((spec) => spec.name.startsWith('tcpecho fork')) ? await forkChildFigures() : undefined;
  let generators: string | undefined;
  if (!values['no-loadgen']) {
    try {
      const unpinned = await loadgenRatios(false);
      const pinned = CAN_PIN ? await loadgenRatios(true) : undefined;
      if (unpinned !== undefined) {
        generators = [
          '| workload | metric | C loadgen | tcpecho bench | ratio | generator CPU per unit, C | tcpecho bench | ratio |',
          '|---|---|---|---|---|---|---|---|',
          ...unpinned,
          ...(pinned ?? []),
        ].join('\n');
        if (pinned) generators += '\n\nRows marked pinned: each generator on CPU 0 and `refecho` on CPU 1 (`taskset`), the same for both generators.';
      }
    } catch (err) {
      generators = `The comparison with the C load generator failed: ${(err as Error).message}`;
    }
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const text = [
    '# tcpecho benchmark results',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:compare\` (${ROUNDS} rounds, ${DURATION} s per run after ${WARMUP} s warm-up, servers alternated; medians; ${minutes} min in all).`,
    `Node ${process.version}, ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}.`,
    values.pin
      ? 'Pinned (`--pin`): every server, with every process it starts, on CPU 1; the load generator (`tcpecho bench`, every byte verified, one thread) on CPU 0.'
      : 'The load generator (`tcpecho bench`, every byte verified) runs on the same cores as the servers: on one thread, except in the rows marked 2 threads.',
    ...(loadgenOnly
      ? []
      : [
          '',
          '## Servers, driven by `tcpecho bench`; ratio = server / plain node',
          '',
          serverTable(servers, samples),
          '',
          'A process per connection (fork modes, socat) makes 10,000 idle connections 10,000 processes: those rows are n/a.',
          '',
        ]),
    ...(children ? ['## Fork mode children', '', children] : []),
    ...(generators
      ? ['', '## The load generator against the C one (`../shared/bench/loadgen`), both driving `refecho`', '', generators]
      : []),
    ...(failures.length > 0
      ? ['', '## Runs that failed (errors reported, or the generator died), left out of the medians', '', ...failures.map((line) => `- ${line}`)]
      : []),
    '',
  ].join('\n');
  // A --loadgen-only run is a part of the table: it leaves results.md alone unless --out says where.
  if (!loadgenOnly || values.out !== undefined) {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(values.out ?? `${ROOT}bench/results.md`, text);
  }
  process.stdout.write(text);
}

await main();
