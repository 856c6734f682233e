import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { within } from './timeout.js';

/** The built executable, run as a user would run it. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `tcpecho ARGS` to completion with `input` on stdin; bounded by `timeoutMs`. */
export async function runCli(args: string[], options: { input?: Buffer | string; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  return collect(child, options.input, options.timeoutMs ?? 20_000, `tcpecho ${args.join(' ')}`);
}

/** Collects a child's output until it closes; `input` ends its stdin (`null`: the caller writes it). */
export async function collect(child: ChildProcess, input: Buffer | string | undefined | null, timeoutMs: number, what: string): Promise<CliResult> {
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin?.on('error', () => {});
  if (input !== null) child.stdin?.end(input);
  try {
    const [code, signal] = (await within(once(child, 'close'), timeoutMs, what)) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout: Buffer.concat(stdout), stderr };
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nstderr so far:\n${stderr}`);
  }
}

/** A `tcpecho server` process on a free loopback port, killed when the test ends. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Every stderr line so far. */
  lines: string[];
  /** Resolves with the first stderr line (past or future) that matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Run the server under `ulimit -n` of this many descriptors. */
  maxFds?: number;
  /** Listen on this Unix socket (`--unix`) instead of 127.0.0.1 and a free port; `port` is then NaN. */
  unix?: string;
  /** The ready line to wait for (`--log-format json` has its own). @default /^tcpecho listening on / */
  ready?: RegExp;
  /** Listen on this address instead of 127.0.0.1 (a free port still). */
  host?: string;
  /** Run the server inside this network namespace (`ip netns exec`, which execs it: same pid). */
  netns?: string;
}

export async function spawnServer(t: TestContext, args: string[] = [], options: SpawnOptions = {}): Promise<ServerProcess> {
  const argv = [CLI, 'server', ...(options.unix === undefined ? ['--host', options.host ?? '127.0.0.1', '--port', '0'] : ['--unix', options.unix]), ...args];
  const child = options.netns !== undefined
    ? spawn('ip', ['netns', 'exec', options.netns, process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env })
    : options.maxFds === undefined
    ? spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env })
    : spawn('bash', ['-c', `ulimit -n ${options.maxFds} && exec "$0" "$@"`, process.execPath, ...argv], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: options.env ?? process.env,
      });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const lines: string[] = [];
  const watchers = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const watcher of watchers) {
        if (watcher.pattern.test(line)) {
          watchers.delete(watcher);
          watcher.resolve(line);
        }
      }
    }
  });
  function waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    const found = new Promise<string>((resolve) => watchers.add({ pattern, resolve }));
    return within(found, timeoutMs, `server log line ${pattern} (got: ${lines.join(' | ')})`);
  }
  const ready = await waitForLine(options.ready ?? /^tcpecho listening on /);
  const port = Number(/:(\d+) \(mode/.exec(ready)?.[1]);
  return { child, port, lines, waitForLine };
}
