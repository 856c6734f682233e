// The UDP rows of `npm run bench:compare`: tcpecho server --udp against the plain Node dgram echo
// (the baseline of the ratios) and socat, ping-pong driven by `tcpecho bench --udp`.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { BenchResult } from '../src/bench/index.js';
import { BenchFailure, nodeBench, type RunSettings } from './drivers.js';
import { fmt, median, ratio } from './figures.js';
import { cpuSeconds } from './proc.js';
import { CLI, OUT, onCpu, waitFor, type RunningServer, type ServerSpec } from './servers.js';

const PLAIN_UDP = fileURLToPath(new URL('./plain-udp-server.js', import.meta.url));

/**
 * tcpecho's UDP server as a user runs it, with the reflection checks on and a per-source rate
 * limit high enough not to bind: every flow of the generator comes from 127.0.0.1, one source,
 * and the default 10,000/s would cap the row instead of measuring the server. The checks still
 * run for every datagram.
 */
export const tcpechoUdpServer: ServerSpec = {
  name: 'tcpecho udp',
  idle: false,
  async start(cpu) {
    mkdirSync(OUT, { recursive: true });
    const log = `${OUT}server-tcpecho-udp.log`;
    const fd = openSync(log, 'w');
    const child = spawn(...onCpu(cpu, process.execPath, [CLI, 'server', '--udp', '-H', '127.0.0.1', '-p', '0', '--udp-rate', '1000000']), { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    const port = await waitFor(() => {
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(readFileSync(log, 'utf8'));
      return match ? Number(match[1]) : undefined;
    }, 'tcpecho server --udp to bind');
    return running(child, port);
  },
};

export const plainUdpServer: ServerSpec = {
  name: 'plain node dgram',
  idle: false,
  async start(cpu) {
    const child = spawn(...onCpu(cpu, process.execPath, [PLAIN_UDP]), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const port = await waitFor(() => (/^\d+\n/.test(out) ? Number(out) : undefined), 'the plain dgram server to bind');
    return running(child, port);
  },
};

/** `socat UDP-RECVFROM:PORT,fork EXEC:cat`: a process per datagram, when installed. Measured only. */
export function socatUdpServer(): ServerSpec | undefined {
  const bin = ['/usr/bin/socat', '/usr/local/bin/socat'].find((path) => existsSync(path));
  if (bin === undefined) return undefined;
  return {
    name: 'socat udp fork',
    idle: false,
    async start(cpu) {
      const port = await freeUdpPort();
      const child = spawn(...onCpu(cpu, bin, [`UDP-RECVFROM:${port},bind=127.0.0.1,fork`, 'EXEC:cat']), { stdio: ['ignore', 'ignore', 'ignore'] });
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`socat exited at start (code ${child.exitCode})`);
        return udpBound(port) ? port : undefined;
      }, `socat to bind UDP ${port}`);
      return running(child, port);
    },
  };
}

interface UdpWorkload {
  name: string;
  args: string[];
}

export const UDP_WORKLOADS: UdpWorkload[] = [
  { name: 'udp pingpong c=50 64 B', args: ['--udp', '-c', '50', '-s', '64'] },
  { name: 'udp pingpong c=50 1,200 B', args: ['--udp', '-c', '50', '-s', '1200'] },
];

const METRICS: Record<string, (r: BenchResult) => number> = {
  'msg/s': (r) => r.messagesPerS,
  'p99 µs': (r) => r.latencyUs.p99,
  'loss %': (r) => (r.udp?.lossRate ?? 0) * 100,
};

/**
 * The server's own CPU per datagram echoed, from /proc: what the reflection checks and the rate
 * limit cost, and steadier than datagrams a second when other work shares the cores.
 */
const CPU_METRIC = 'server CPU µs/datagram';

export interface UdpCompareSettings {
  rounds: number;
  run: RunSettings;
  serverCpu: number | undefined;
  log: (line: string) => void;
  failed: (what: string) => void;
}

/** Every UDP server on every UDP workload, alternated over the rounds: the markdown table of medians. */
export async function compareUdp(servers: ServerSpec[], s: UdpCompareSettings): Promise<string> {
  const samples = new Map<string, number[]>();
  for (let round = 0; round < s.rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length] as ServerSpec);
    for (const spec of order) {
      const server = await spec.start(s.serverCpu);
      try {
        for (const workload of UDP_WORKLOADS) {
          s.log(`round ${round + 1}/${s.rounds}  ${spec.name.padEnd(16)} ${workload.name} (tcpecho bench --udp)`);
          let result: BenchResult;
          let cpuUs: number | undefined;
          try {
            const before = cpuSeconds(server.pid);
            result = nodeBench(server.port, workload.args, s.run);
            // Over warm-up and window alike, at the window's rate: the same slight overcount for
            // every server. A process per datagram (socat) is not one pid's CPU: left out.
            const datagrams = result.messagesPerS * (Number(s.run.duration) + Number(s.run.warmup));
            if (!spec.name.startsWith('socat') && datagrams > 0) cpuUs = ((cpuSeconds(server.pid) - before) * 1e6) / datagrams;
          } catch (err) {
            if (!(err instanceof BenchFailure)) throw err;
            s.failed(`round ${round + 1}, ${spec.name}, ${workload.name}: ${err.message}`);
            continue;
          }
          const figures = [...Object.entries(METRICS).map(([metric, of]) => [metric, of(result)] as const), ...(cpuUs === undefined ? [] : [[CPU_METRIC, cpuUs] as const])];
          for (const [metric, figure] of figures) {
            const key = `${spec.name}|${workload.name}|${metric}`;
            samples.set(key, [...(samples.get(key) ?? []), figure]);
          }
          s.log(`    ${figures.map(([metric, figure]) => `${fmt(figure, metric === 'msg/s' || metric === 'p99 µs' ? 0 : 2)} ${metric}`).join(', ')}`);
        }
      } finally {
        await server.stop();
      }
    }
  }
  const header = ['workload', 'metric', ...servers.flatMap((spec) => (spec === plainUdpServer ? [spec.name] : [spec.name, 'ratio']))];
  const rows = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const workload of UDP_WORKLOADS) {
    for (const metric of [...Object.keys(METRICS), CPU_METRIC]) {
      const base = median(samples.get(`${plainUdpServer.name}|${workload.name}|${metric}`));
      const digits = metric === 'msg/s' || metric === 'p99 µs' ? 0 : 2;
      const cells = servers.flatMap((spec) => {
        const value = median(samples.get(`${spec.name}|${workload.name}|${metric}`));
        return spec === plainUdpServer ? [fmt(value, digits)] : [fmt(value, digits), metric === 'loss %' ? '' : ratio(value, base)];
      });
      const label = metric === 'msg/s' ? metric : `${metric} (lower is better)`;
      rows.push(`| ${workload.name} | ${label} | ${cells.join(' | ')} |`);
    }
  }
  return rows.join('\n');
}

/** Whether a UDP socket is bound to `port` (from /proc/net/udp). */
function udpBound(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/udp', 'utf8').split('\n').some((line) => /^\s*\d+:\s+[0-9A-F]+:([0-9A-F]{4})\s/.exec(line)?.[1] === hex);
}

async function freeUdpPort(): Promise<number> {
  const probe = dgram.createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function running(child: ChildProcess, port: number): RunningServer {
  return {
    port,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
