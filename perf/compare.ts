// `npm run bench:compare`: every tcpecho server mode and a plain Node echo server, side by side,
// on the same workloads, alternating over several rounds; prints a table of medians with each
// one's ratio to the plain server and writes it to a new file under bench/results/. `--help`
// says how.
import net from 'node:net';
import os from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchResult } from '../src/bench/index.js';
import { C_BENCH_VARIABLE, findCTools } from './c-tools.js';
import { BenchFailure, loadgen, nodeBench, type LoadgenSummary, type RunSettings } from './drivers.js';
import { fmt, median, ratio } from './figures.js';
import { forkChildFigures } from './fork-children.js';
import { GENERATOR_HEADER, generatorRows } from './generator-ratios.js';
import { treeUsage } from './proc.js';
import { writeNewResultsFile } from './results-file.js';
import { makeTemporaryCertificate } from '../src/server/tls/certificate.js';
import {
  OUT, ROOT, ncatServer, ncatTlsServer, plainServer, plainTlsServer, plainUnixServer, refechoServer, socatServer, socatTlsServer, tcpechoServer,
  tcpechoUnixServer, type CertificateFiles, type ServerSpec,
} from './servers.js';
import { compareUdp, plainUdpServer, socatUdpServer, tcpechoUdpServer } from './udp-compare.js';

const USAGE =
  "usage: npm run bench:compare -- [--rounds N] [--duration S] [--warmup S] [--idle N] [--driver node|loadgen] [--pin] [--c-bench DIR] [--no-loadgen | --loadgen-only] [--no-udp | --udp-only] [--only 'NAME,...'] [--out FILE] [--help]";

const HELP = `${USAGE}

Every tcpecho server mode and a plain Node echo server (the baseline of every ratio), each driven
on the same workloads, servers alternated over the rounds; medians. Then the same over TLS:
tcpecho event mode with TLS, socat and ncat against a plain Node TLS echo (the TLS rows' baseline). Prints the results and writes
them to a new file bench/results/YYYY-MM-DDTHH-MM-compare.md (UTC), or to --out FILE.

  --rounds N        rounds over every server (default 3)
  --duration S      seconds measured per run (default 4), after --warmup S (default 1)
  --idle N          idle connections opened for the RSS-per-connection row (default 10000; 0: none)
  --driver node     the servers driven by tcpecho bench (default)
  --driver loadgen  the servers driven by the C load generator, pinned: every server, with every
                    process it starts, on CPU 0, the generator on CPU 1. Rows it cannot drive
                    (a connection rate) are driven by tcpecho bench on CPU 1; each row names its driver.
  --pin             with --driver node: the same pinning, tcpecho bench on CPU 1
  --c-bench DIR     where the built C tools refecho and loadgen are (default: $${C_BENCH_VARIABLE});
                    without them the refecho row, the C driver and the generator comparison are left out
  --no-loadgen      leave out the comparison of tcpecho bench with the C load generator
  --loadgen-only    that comparison only
  --only 'A,B'      these servers only, each table with its baseline (plain node, plain node tls, plain
                    node unix); a table none of them is in is left out. 'tcpecho event unix' is the
                    Unix socket rows (event mode and the plain server, each on a Unix socket);
                    'tcpecho event metrics' the metrics rows (event mode with --metrics-port
                    against without); the Unix, TLS and metrics tables run by default
  --no-udp          leave out the UDP rows (tcpecho udp, plain node dgram, socat udp fork); with
                    --only, they run when a UDP server (tcpecho udp, socat udp fork) is named
  --udp-only        the UDP rows only
`;

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
        driver: { type: 'string', default: 'node' },
        pin: { type: 'boolean', default: false },
        'c-bench': { type: 'string' },
        'no-loadgen': { type: 'boolean', default: false },
        'loadgen-only': { type: 'boolean', default: false },
        'no-udp': { type: 'boolean', default: false },
        'udp-only': { type: 'boolean', default: false },
        only: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
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
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const ROUNDS = checkNumber('--rounds', values.rounds, true, 1);
checkNumber('--duration', values.duration, false, 0);
checkNumber('--warmup', values.warmup, false, 0);
const IDLE = checkNumber('--idle', values.idle, true, 0);
if (values.driver !== 'node' && values.driver !== 'loadgen') usageError(`--driver must be node or loadgen, not ${values.driver}`);
const C_DRIVER = values.driver === 'loadgen';
const TOOLS = findCTools(values['c-bench']);
if (C_DRIVER && TOOLS.path.loadgen === undefined) {
  // Asked for by name: a setup error, not a row to leave out.
  process.stderr.write(`bench:compare: --driver loadgen needs the C load generator: ${TOOLS.missing.loadgen}\n`);
  process.exit(2);
}

/**
 * Pinned: every server (with every process it starts) on CPU 0, the generator on CPU 1, as a
 * server and a client on two machines would have a CPU each. Unpinned, the scheduler moves the
 * generator's and the server's threads (Node's helpers included) between the two cores, and a
 * second server process competes with the generator for the second core: the rows then show the
 * generator's ceiling as much as the server's. The C driver is always pinned, as the generator
 * comparison's pinned rows are.
 */
const CAN_PIN = os.cpus().length >= 2 && ['/usr/bin/taskset', '/bin/taskset'].some((path) => existsSync(path));
const PINNED = values.pin || C_DRIVER;
if (PINNED && !CAN_PIN) usageError(`${C_DRIVER ? '--driver loadgen' : '--pin'} needs two CPUs and taskset`);
const PIN = { serverCpu: 0, generatorCpu: 1 };
const SERVER_CPU = PINNED ? PIN.serverCpu : undefined;
const RUN: RunSettings = { duration: values.duration, warmup: values.warmup, cpu: PINNED ? PIN.generatorCpu : undefined };

/** `word` as a shell would need it typed: quoted when it holds anything but plain characters. */
const shellWord = (word: string): string => (/^[\w./=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);

const log = (line: string): void => void process.stderr.write(`${line}\n`);

type Driver = 'tcpecho bench' | 'C loadgen';

interface Workload {
  name: string;
  /** `tcpecho bench`'s arguments. */
  node: string[];
  /** The C generator's, when it can run this workload. */
  c?: string[];
  metrics: string[];
}

const NODE_METRICS: Record<string, (r: BenchResult) => number> = {
  'msg/s': (r) => r.messagesPerS,
  'conn/s': (r) => r.connectionsPerS,
  'MiB/s': (r) => r.mibPerS,
  'p50 µs': (r) => r.latencyUs.p50,
  'p90 µs': (r) => r.latencyUs.p90,
  'p99 µs': (r) => r.latencyUs.p99,
  'resumed %': (r) => (r.tlsResumed + r.tlsFull > 0 ? (100 * r.tlsResumed) / (r.tlsResumed + r.tlsFull) : 0),
};
const C_METRICS: Record<string, (s: LoadgenSummary) => number> = {
  'msg/s': (s) => s.msgs_per_s,
  'conn/s': (s) => s.conns_per_s,
  'MiB/s': (s) => s.mib_per_s,
  'p50 µs': (s) => s.lat_us.p50,
  'p90 µs': (s) => s.lat_us.p90,
  'p99 µs': (s) => s.lat_us.p99,
};

const ALL_WORKLOADS: Workload[] = [
  { name: 'pingpong c=1 64 B', node: ['-m', 'pingpong', '-c', '1', '-s', '64'], c: ['-m', 'pingpong', '-c', '1', '-s', '64'], metrics: ['msg/s', 'p50 µs', 'p99 µs'] },
  { name: 'pingpong c=50 1 KiB', node: ['-m', 'pingpong', '-c', '50', '-s', '1k'], c: ['-m', 'pingpong', '-c', '50', '-s', '1024'], metrics: ['msg/s', 'p99 µs'] },
  { name: 'pingpong c=50 16 KiB', node: ['-m', 'pingpong', '-c', '50', '-s', '16k'], c: ['-m', 'pingpong', '-c', '50', '-s', '16384'], metrics: ['msg/s', 'p99 µs'] },
  { name: 'stream c=4 64 KiB', node: ['-m', 'stream', '-c', '4', '-s', '64k'], c: ['-m', 'stream', '-c', '4', '-s', '65536'], metrics: ['MiB/s'] },
  // The same two loads from a generator on both cores (`--threads 2`), as the server's processes
  // may be: a single-threaded generator holds one core, and a second server process has none left.
  { name: 'pingpong c=50 1 KiB, 2 threads', node: ['-m', 'pingpong', '-c', '50', '-s', '1k', '--threads', '2'], metrics: ['msg/s', 'p99 µs'] },
  { name: 'stream c=4 64 KiB, 2 threads', node: ['-m', 'stream', '-c', '4', '-s', '64k', '--threads', '2'], metrics: ['MiB/s'] },
  { name: 'connect c=8 64 B', node: ['-m', 'connect', '-c', '8', '-s', '64'], c: ['-m', 'connrate', '-c', '8', '-s', '64'], metrics: ['conn/s', 'p50 µs'] },
  // Clients arriving one at a time, 5 a second: the connect-to-first-echo latency a person sees.
  // The C generator has no rate: this row is tcpecho bench's under either driver.
  { name: 'connect 5/s 64 B', node: ['-m', 'connect', '--rate', '5', '-c', '8', '-s', '64'], metrics: ['p50 µs', 'p90 µs'] },
];

/**
 * The TLS rows, against TLS servers only. The generator does not verify (`--insecure`): checking
 * the certificate is the client's cost, and every server serves the same one.
 */
const TLS = ['--tls', '--insecure'];
const TLS_WORKLOADS: Workload[] = [
  { name: 'TLS pingpong c=50 1 KiB', node: [...TLS, '-m', 'pingpong', '-c', '50', '-s', '1k'], metrics: ['msg/s', 'p99 µs'] },
  { name: 'TLS stream c=4 64 KiB', node: [...TLS, '-m', 'stream', '-c', '4', '-s', '64k'], metrics: ['MiB/s'] },
  // Each connection a full handshake: conn/s is handshakes a second; the latency runs from the connect call to the echo.
  { name: 'TLS connect c=8 64 B', node: [...TLS, '-m', 'connect', '-c', '8', '-s', '64'], metrics: ['conn/s', 'p50 µs'] },
  { name: 'TLS connect c=8 64 B, resumed', node: [...TLS, '--tls-resume', '-m', 'connect', '-c', '8', '-s', '64'], metrics: ['conn/s', 'p50 µs', 'resumed %'] },
];

/**
 * Over a Unix socket: tcpecho's event mode against the plain server on one, driven by `tcpecho
 * bench --unix` (the C generator speaks TCP only, so under either driver).
 */
const UNIX_WORKLOADS: Workload[] = [
  { name: 'unix pingpong c=50 1 KiB', node: ['-m', 'pingpong', '-c', '50', '-s', '1k'], metrics: ['msg/s', 'p99 µs'] },
  { name: 'unix stream c=4 64 KiB', node: ['-m', 'stream', '-c', '4', '-s', '64k'], metrics: ['MiB/s'] },
];
/**
 * What metrics cost (issue 15: within 3%): event mode with `--metrics-port 0` against event mode
 * without, on the ping-pong load. The endpoint is not scraped during the run: counting is what
 * costs, and it happens per connection (open, close, bytes at close), not per message.
 */
const METRICS_WORKLOADS: Workload[] = [
  { name: 'pingpong c=50 1 KiB', node: ['-m', 'pingpong', '-c', '50', '-s', '1k'], metrics: ['msg/s', 'p99 µs'] },
  { name: 'connect c=8 64 B', node: ['-m', 'connect', '-c', '8', '-s', '64'], metrics: ['conn/s'] },
];
// Two generator threads on one CPU measure nothing.
const WORKLOADS = ALL_WORKLOADS.filter((w) => !(PINNED && w.node.includes('--threads')));
const driverOf = (w: Workload): Driver => (C_DRIVER && w.c !== undefined ? 'C loadgen' : 'tcpecho bench');
const IDLE_ROW = `${IDLE} idle connections`;

/** Higher is better for rates, lower for latencies and memory. */
const lowerIsBetter = (metric: string): boolean => /µs|KiB\/conn/.test(metric);

/** Runs that reported errors or whose generator died: left out of the medians, listed under the tables. */
const failures: string[] = [];
function recordFailure(what: string): void {
  failures.push(what);
  log(`    FAILED (left out of the medians): ${what}`);
}

/**
 * One run of `workload` against `port` (a Unix socket's path: tcpecho bench only) with its row's
 * driver: its figures by metric, or undefined when it failed.
 */
function measure(workload: Workload, port: number | string, what: string): Record<string, number> | undefined {
  try {
    if (driverOf(workload) === 'C loadgen') {
      const summary = loadgen(TOOLS.path.loadgen as string, port as number, workload.c as string[], RUN);
      return Object.fromEntries(workload.metrics.map((m) => [m, (C_METRICS[m] as (s: LoadgenSummary) => number)(summary)]));
    }
    const result = nodeBench(port, workload.node, RUN);
    return Object.fromEntries(workload.metrics.map((m) => [m, (NODE_METRICS[m] as (r: BenchResult) => number)(result)]));
  } catch (err) {
    if (!(err instanceof BenchFailure)) throw err;
    recordFailure(`${what}: ${err.message}`);
    return undefined;
  }
}

/** Opens `count` idle connections, measures the server's RSS growth per connection (KiB), closes them. */
async function idleRssPerConnection(port: number, pid: number, count: number): Promise<number> {
  const before = treeUsage(pid).rssKiB;
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
  const after = treeUsage(pid).rssKiB;
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return (after - before) / count;
}

type Samples = Map<string, number[]>; // key: `${server}|${workload}|${metric}`

function record(samples: Samples, key: string, value: number): void {
  samples.set(key, [...(samples.get(key) ?? []), value]);
}

async function compareServers(servers: ServerSpec[], workloads: Workload[] = WORKLOADS): Promise<Samples> {
  const samples: Samples = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so that no server always runs first or last.
    const order = servers.map((_, i) => servers[(i + round) % servers.length] as ServerSpec);
    for (const spec of order) {
      const server = await spec.start(SERVER_CPU);
      try {
        for (const workload of workloads) {
          log(`round ${round + 1}/${ROUNDS}  ${spec.name.padEnd(14)} ${workload.name} (${driverOf(workload)})`);
          const figures = measure(workload, server.unix ?? server.port, `round ${round + 1}, ${spec.name}, ${workload.name}`);
          if (figures === undefined) continue;
          for (const [metric, figure] of Object.entries(figures)) record(samples, `${spec.name}|${workload.name}|${metric}`, figure);
          // Every run's figures in the log: an outlier behind a median can be seen there.
          log(`    ${Object.entries(figures).map(([metric, figure]) => `${fmt(figure)} ${metric}`).join(', ')}`);
        }
        if (workloads === WORKLOADS && spec.idle && IDLE > 0) {
          log(`round ${round + 1}/${ROUNDS}  ${spec.name.padEnd(14)} ${IDLE_ROW}`);
          record(samples, `${spec.name}|${IDLE_ROW}|RSS KiB/conn`, await idleRssPerConnection(server.port, server.pid, IDLE));
        }
      } finally {
        await server.stop();
      }
    }
  }
  return samples;
}

function serverTable(servers: ServerSpec[], samples: Samples, workloads: Workload[] = WORKLOADS, baseline = plainServer.name): string {
  const header = ['workload', 'metric', 'driver', ...servers.flatMap((s) => (s.name === baseline ? [s.name] : [s.name, 'ratio']))];
  const rows = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  const lines: Array<[string, string, string]> = [
    ...workloads.flatMap((w) => w.metrics.map((m) => [w.name, m, driverOf(w)] as [string, string, string])),
    // This script's own sockets, connecting and saying nothing.
    ...(IDLE > 0 && workloads === WORKLOADS ? [[IDLE_ROW, 'RSS KiB/conn', 'idle sockets'] as [string, string, string]] : []),
  ];
  for (const [workload, metric, driver] of lines) {
    const base = median(samples.get(`${baseline}|${workload}|${metric}`));
    const digits = metric === 'MiB/s' || metric.includes('KiB/conn') ? 1 : 0;
    const cells = servers.flatMap((s) => {
      const value = median(samples.get(`${s.name}|${workload}|${metric}`));
      return s.name === baseline ? [fmt(value, digits)] : [fmt(value, digits), ratio(value, base)];
    });
    rows.push(`| ${workload} | ${metric}${lowerIsBetter(metric) ? ' (lower is better)' : ''} | ${driver} | ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

/** One table of the results file: its heading, the table, the note under it. */
function section(heading: string, table: string, note: string): string[] {
  return ['', `## ${heading}`, '', table, '', note, ''];
}

function setupLine(): string {
  if (C_DRIVER) {
    return 'Driver `--driver loadgen`: the C load generator (`loadgen`, every byte verified, one thread) on CPU 1; every server, with every process it starts, on CPU 0. Rows whose driver column says tcpecho bench ran it on CPU 1 instead.';
  }
  if (values.pin) return 'Driver tcpecho bench (every byte verified, one thread), pinned (`--pin`): every server, with every process it starts, on CPU 0; the generator on CPU 1.';
  return 'Driver tcpecho bench (every byte verified), on the same cores as the servers: on one thread, except in the rows marked 2 threads.';
}

async function main(): Promise<void> {
  const udpServers: ServerSpec[] = [tcpechoUdpServer, plainUdpServer];
  const socatUdp = socatUdpServer();
  if (socatUdp) udpServers.push(socatUdp);
  const servers: ServerSpec[] = [
    tcpechoServer('event'),
    plainServer,
    tcpechoServer('fork'),
    tcpechoServer('fork', ['--spare', '0'], 'no spares'),
    tcpechoServer('cluster'),
    tcpechoServer('cluster', ['--balance', 'shared'], 'shared'),
    tcpechoServer('cluster', ['--workers', '1'], '1 worker'),
  ];
  if (TOOLS.path.refecho !== undefined) servers.push(refechoServer(TOOLS.path.refecho));
  for (const extra of [socatServer(), ncatServer()]) if (extra) servers.push(extra);
  let runUdp = !values['no-udp'] && !values['loadgen-only'];
  // The Unix socket rows: their own two servers, in a directory of this run's.
  const unixDir = mkdtempSync(join(os.tmpdir(), 'tcpecho-compare-'));
  process.on('exit', () => rmSync(unixDir, { recursive: true, force: true }));
  const plainUnix = plainUnixServer(join(unixDir, 'plain.sock'));
  const unixServers: ServerSpec[] = [tcpechoUnixServer(join(unixDir, 'tcpecho.sock')), plainUnix];
  const certificate = await certificateFiles();
  const plainTls = plainTlsServer(certificate);
  const tlsServers: ServerSpec[] = [tcpechoServer('event', ['--tls-cert', certificate.cert, '--tls-key', certificate.key], 'tls'), plainTls];
  for (const extra of [socatTlsServer(certificate), ncatTlsServer(certificate)]) if (extra) tlsServers.push(extra);
  const metricsBaseline = tcpechoServer('event');
  const metricsServers: ServerSpec[] = [tcpechoServer('event', ['--metrics-port', '0'], 'metrics'), metricsBaseline];
  if (values.only !== undefined) {
    const wanted = new Set(values.only.split(',').map((name) => name.trim()));
    const known = [...servers, ...tlsServers, ...unixServers, ...metricsServers.filter((spec) => spec !== metricsBaseline), ...udpServers.filter((spec) => spec !== plainUdpServer)];
    const unknown = [...wanted].filter((name) => !known.some((spec) => spec.name === name));
    if (unknown.length > 0) usageError(`--only: no server named ${unknown.join(', ')} (have: ${known.map((spec) => spec.name).join(', ')})`);
    // Each table keeps its baseline, the plain server of its ratios; a table with none of the
    // servers asked for is left out (with only Unix servers named, no TCP rows).
    for (const [list, baseline] of [[servers, plainServer], [tlsServers, plainTls], [unixServers, plainUnix], [metricsServers, metricsBaseline]] as const) {
      const kept = list.filter((spec) => spec !== baseline && wanted.has(spec.name));
      list.splice(0, list.length, ...(kept.length === 0 ? [] : list.filter((spec) => spec === baseline || wanted.has(spec.name))));
    }
    runUdp &&= udpServers.some((spec) => spec !== plainUdpServer && wanted.has(spec.name));
    udpServers.splice(0, udpServers.length, ...udpServers.filter((spec) => spec === plainUdpServer || wanted.has(spec.name)));
  }

  // After the checks of the options: a usage error is its line and the usage, nothing else.
  for (const tool of ['refecho', 'loadgen'] as const) {
    const missing = TOOLS.missing[tool];
    if (missing !== undefined) log(`bench:compare: leaving out what needs ${missing}`);
  }
  const started = Date.now();
  const loadBefore = os.loadavg()[0] as number;
  const loadgenOnly = values['loadgen-only'];
  if (loadgenOnly || values['udp-only']) {
    servers.splice(0, servers.length);
    tlsServers.splice(0, tlsServers.length);
    unixServers.splice(0, unixServers.length);
    metricsServers.splice(0, metricsServers.length);
  }
  const samples = await compareServers(servers);
  const tlsSamples = await compareServers(tlsServers, TLS_WORKLOADS);
  const unixSamples = await compareServers(unixServers, UNIX_WORKLOADS);
  const metricsSamples = await compareServers(metricsServers, METRICS_WORKLOADS);
  const udpTable = runUdp ? await compareUdp(udpServers, { rounds: ROUNDS, run: RUN, serverCpu: SERVER_CPU, log, failed: recordFailure }) : undefined;
  const children = servers.some((spec) => spec.name.startsWith('tcpecho fork')) ? await forkChildFigures() : undefined;
  let generators: string | undefined;
  const { refecho, loadgen: loadgenBin } = TOOLS.path;
  if (!values['no-loadgen'] && !values['udp-only'] && refecho !== undefined && loadgenBin !== undefined) {
    try {
      const run = { rounds: ROUNDS, duration: values.duration, warmup: values.warmup, log, failed: recordFailure };
      const unpinned = await generatorRows({ refecho, loadgen: loadgenBin }, { ...run, pin: undefined });
      const pinned = CAN_PIN ? await generatorRows({ refecho, loadgen: loadgenBin }, { ...run, pin: PIN }) : [];
      generators = [...GENERATOR_HEADER, ...unpinned, ...pinned].join('\n');
      if (pinned.length > 0) generators += '\n\nRows marked pinned: `refecho` on CPU 0 and each generator on CPU 1 (`taskset`), the same for both generators.';
    } catch (err) {
      generators = `The comparison with the C load generator failed: ${(err as Error).message}`;
    }
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const missing = Object.values(TOOLS.missing);

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const text = [
    '# tcpecho benchmark results',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:compare -- ${process.argv.slice(2).map(shellWord).join(' ')}\` (${ROUNDS} rounds, ${values.duration} s per run after ${values.warmup} s warm-up, servers alternated; medians; ${minutes} min in all).`,
    `Node ${process.version}, ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}; load average ${loadBefore.toFixed(1)} at the start, ${(os.loadavg()[0] as number).toFixed(1)} at the end (what else ran on the machine).`,
    setupLine(),
    ...(missing.length > 0 ? ['', `Left out, the C tools not found: ${missing.join('; ')}.`] : []),
    ...(loadgenOnly || servers.length === 0
      ? []
      : section(
          'Servers; ratio = server / plain node',
          serverTable(servers, samples),
          'A process per connection (fork modes, socat, ncat) makes 10,000 idle connections 10,000 processes: those rows are n/a. ' +
            'A ratio is n/a where the plain server\'s figure is 0 or below (idle RSS growth within a page).' +
            (C_DRIVER ? ' The C generator\'s connect latency runs from connect() to the server\'s FIN; tcpecho bench\'s to the first echo.' : ''),
        )),
    ...(unixServers.length === 0
      ? []
      : section(
          'Unix domain sockets; ratio = tcpecho / the plain node server on a Unix socket',
          serverTable(unixServers, unixSamples, UNIX_WORKLOADS, plainUnix.name),
          'Both on a socket file in a temporary directory, driven by `tcpecho bench --unix` (one thread), alternating as above.',
        )),
    ...(metricsServers.length === 0
      ? []
      : section(
          'Metrics; ratio = tcpecho event with `--metrics-port 0` / without',
          serverTable(metricsServers, metricsSamples, METRICS_WORKLOADS, metricsBaseline.name),
          'The endpoint is up and not scraped during the runs; a scrape reads the counters, it does not slow the echo.',
        )),
    ...(!udpTable
      ? []
      : section(
          'UDP servers; ratio = server / plain node dgram',
          udpTable,
          'Driven by `tcpecho bench --udp` (every byte of every echo checked; loss = datagrams with no echo within 1 s, over datagrams sent). ' +
            '`tcpecho udp` runs with its reflection checks on and `--udp-rate 1000000`: every flow comes from 127.0.0.1, one source address, and the default 10,000/s per source would cap the row. ' +
            'socat forks a process per datagram.',
        )),
    ...(tlsServers.length === 0
      ? []
      : section(
          'TLS servers; ratio = server / plain node tls',
          serverTable(tlsServers, tlsSamples, TLS_WORKLOADS, plainTls.name),
          'Every TLS server serves the same ECDSA P-256 certificate, made at the start of the run; `tcpecho bench --tls --insecure` drives them ' +
            '(the client does not verify: that is its cost, not the server\'s). In the connect rows every connection is a handshake, so conn/s is ' +
            'handshakes a second, full ones or, with `--tls-resume`, resumed ones (resumed % is the share the server did resume); ' +
            'the latency runs from the connect call to the echo, handshake included. socat and ncat fork a process per connection.',
        )),
    ...(children ? ['## Fork mode children', '', children] : []),
    ...(generators ? ['', '## The load generator against the C one (`loadgen`), both driving `refecho`', '', generators] : []),
    ...(failures.length > 0 ? ['', '## Runs that failed (errors reported, or the generator died), left out of the medians', '', ...failures.map((line) => `- ${line}`)] : []),
    '',
  ].join('\n');
  if (values.out !== undefined) {
    writeFileSync(values.out, text);
  } else {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    log(`bench:compare: written to ${writeNewResultsFile(dir, 'compare', text)}`);
  }
  process.stdout.write(text);
}

/** The TLS rows' certificate (for 127.0.0.1 and localhost), made now and written to the scratch directory. */
async function certificateFiles(): Promise<CertificateFiles> {
  const pair = await makeTemporaryCertificate();
  mkdirSync(OUT, { recursive: true });
  const files = { cert: join(OUT, 'tls-cert.pem'), key: join(OUT, 'tls-key.pem') };
  writeFileSync(files.cert, pair.cert);
  writeFileSync(files.key, pair.key, { mode: 0o600 });
  return files;
}

await main();
