// Starting and stopping the servers that `npm run bench:compare` measures, each as its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const PLAIN = fileURLToPath(new URL('./plain-server.js', import.meta.url));
export const SHARED_BENCH = fileURLToPath(new URL('../../../shared/bench/', import.meta.url));
export const OUT = fileURLToPath(new URL('../../bench/out/', import.meta.url));

export interface ServerSpec {
  name: string;
  /** Whether 10,000 idle connections make sense (not for a process per connection). */
  idle: boolean;
  start(): Promise<RunningServer>;
}

export interface RunningServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** tcpecho's own server, logging on as by default, its log going to a file (as it would in production). */
export function tcpechoServer(mode: string, extra: string[] = []): ServerSpec {
  return {
    name: `tcpecho ${mode}`,
    idle: mode !== 'fork',
    async start() {
      mkdirSync(OUT, { recursive: true });
      const log = `${OUT}server-${mode}.log`;
      const fd = openSync(log, 'w');
      const child = spawn(process.execPath, [CLI, 'server', '-H', '127.0.0.1', '-p', '0', '-m', mode, ...extra], { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      const port = await waitFor(() => {
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(readFileSync(log, 'utf8'));
        return match ? Number(match[1]) : undefined;
      }, `tcpecho ${mode} to listen`);
      return running(child, port);
    },
  };
}

export const plainServer: ServerSpec = {
  name: 'plain node',
  idle: true,
  async start() {
    const child = spawn(process.execPath, [PLAIN], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const port = await waitFor(() => (/^\d+\n/.test(out) ? Number(out) : undefined), 'the plain server to listen');
    return running(child, port);
  },
};

/** The C epoll server from ../shared/bench, as a reference row, when it has been built. */
export function refechoServer(): ServerSpec | undefined {
  const bin = `${SHARED_BENCH}refecho`;
  if (!existsSync(bin)) return undefined;
  return {
    name: 'refecho (C)',
    idle: true,
    async start() {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const child = spawn(bin, [String(port)], { stdio: ['ignore', 'ignore', 'ignore'] });
      await waitFor(() => (readFileSync('/proc/net/tcp', 'utf8').includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`) ? port : undefined), 'refecho to listen');
      return running(child, port);
    },
  };
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

async function waitFor<T>(probe: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
