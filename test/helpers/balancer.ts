// What the balancer tests share: a free port for the balancer, `tcpecho bench` through it, and
// what a `--proxy-protocol` backend's log says it served.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { collect, CLI, type ServerProcess } from './cli.js';
import { until } from './timeout.js';

/**
 * Starts a balancer (`haproxy`, `nginx`) killed when the test ends, and resolves once `port`
 * accepts connections; its output lines (stdout and stderr) are collected as they come.
 */
export async function startBalancer(t: TestContext, command: string, args: string[], port: number): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const lines: string[] = [];
  const onData = (chunk: Buffer): void => {
    lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`${command} exited: ${lines.join(' | ')}`);
    return new Promise<boolean>((resolve) => {
      const probe = net.connect({ port, host: '127.0.0.1' }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
  }, 10_000, () => `${command} listening on ${port} (${lines.join(' | ')})`, 50);
  return { child, lines };
}


export interface BenchResult {
  messages: number;
  errorTotal: number;
  errors: Record<string, number>;
}

/** `tcpecho bench --json` through the balancer for `durationS` (2); it must exit 0 unless `errorsExpected`. */
export async function bench(port: number, connections: number, options: { durationS?: number; errorsExpected?: boolean } = {}): Promise<BenchResult> {
  const done = await startBench(port, connections, options.durationS ?? 2).result;
  if (options.errorsExpected !== true) assert.equal(done.code, 0, `bench failed: ${done.stdout.toString()} ${done.stderr}`);
  return JSON.parse(done.stdout.toString()) as BenchResult;
}

/** `tcpecho bench --json` started, not awaited: for a test that acts on the backends meanwhile. */
export function startBench(port: number, connections: number, durationS: number): { child: ChildProcess; result: ReturnType<typeof collect> } {
  const args = [CLI, 'bench', '127.0.0.1', String(port), '-c', String(connections), '-d', String(durationS), '--warmup', '0', '--json'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, result: collect(child, null, 30_000 + durationS * 1000, 'tcpecho bench through the balancer') };
}

export interface Served {
  /** Close lines of the bench's connections: client `address:port`, and the balancer's. */
  clients: Array<{ client: string; proxy: string }>;
  /** The TCP peers the open lines saw: HAProxy's own addresses and ports. */
  opened: Set<string>;
}

export function served(backend: ServerProcess): Served {
  const opened = new Set<string>();
  const clients: Array<{ client: string; proxy: string }> = [];
  for (const line of backend.lines) {
    // The TCP peer: the open line's proxy= once the header is read (its address is then the client's).
    const open = / open #\d+ (\S+)(?: pid=\d+)?(?: proxy=(\S+))?$/.exec(line);
    if (open !== null) opened.add((open[2] ?? open[1]) as string);
    const close = / close #\d+ (\S+) proxy=(\S+) bytes=(\d+) /.exec(line);
    // A connection that sent nothing (a balancer's own readiness probe) is not the bench's.
    if (close !== null && close[3] === '0') continue;
    // A health check (v2 LOCAL) is served with HAProxy's own address: the client is the proxy.
    if (close !== null && close[1] !== close[2]) clients.push({ client: close[1] as string, proxy: close[2] as string });
  }
  return { clients, opened };
}

/**
 * After a bench of `connections` through the balancer on `balancerPort`: every connection logged
 * closed, each backend served a share, and every close line names a client of the bench (on
 * 127.0.0.1), never one of the balancer's own ports (`name`'s, the peers its open lines saw).
 */
export async function assertSpreadWithClientAddresses(backends: ServerProcess[], connections: number, name: string, balancerPort: number): Promise<void> {
  await until(() => backends.reduce((n, b) => n + served(b).clients.length, 0) >= connections, 10_000, 'the backends to log every bench connection closed');
  for (const [i, backend] of backends.entries()) {
    const { clients, opened } = served(backend);
    assert.ok(clients.length > 0, `backend ${i} served none of the bench's connections`);
    for (const { client, proxy } of clients) {
      assert.match(client, /^127\.0\.0\.1:\d+$/);
      assert.ok(opened.has(proxy), `proxy= ${proxy} is the peer the open line saw`);
      assert.ok(!opened.has(client), `${client} is one of ${name}'s own ports, not the bench's`);
      assert.notEqual(client, `127.0.0.1:${balancerPort}`);
    }
  }
}
