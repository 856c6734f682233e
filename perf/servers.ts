// Starting and stopping the servers that `npm run bench:compare` measures, each as its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listeningOn } from './proc.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const PLAIN = fileURLToPath(new URL('./plain-server.js', import.meta.url));
const PLAIN_TLS = fileURLToPath(new URL('./plain-tls-server.js', import.meta.url));
/** Scratch output (the servers' logs): not kept. */
export const OUT = fileURLToPath(new URL('../../perf/out/', import.meta.url));

export interface ServerSpec {
  name: string;
  /** Whether 10,000 idle connections make sense (not for a process per connection). */
  idle: boolean;
  /** Starts it; on CPU `cpu` only (with every process it starts), if given. */
  start(cpu?: number): Promise<RunningServer>;
}

export interface RunningServer {
  /** The TCP port on 127.0.0.1; NaN for a server on a Unix socket. */
  port: number;
  /** The Unix socket path, for a server on one. */
  unix?: string;
  pid: number;
  stop(): Promise<void>;
}

/** tcpecho's own server, logging on as by default, its log going to a file (as it would in production). */
export function tcpechoServer(mode: string, extra: string[] = [], label = ''): ServerSpec {
  const name = `tcpecho ${mode}${label ? ` ${label}` : ''}`;
  return {
    name,
    idle: mode !== 'fork',
    async start(cpu) {
      mkdirSync(OUT, { recursive: true });
      const log = `${OUT}server-${name.replaceAll(/[^a-z0-9]+/gi, '-')}.log`;
      const fd = openSync(log, 'w');
      const child = spawn(...onCpu(cpu, process.execPath, [CLI, 'server', '-H', '127.0.0.1', '-p', '0', '-m', mode, ...extra]), { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      const port = await waitFor(() => {
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(readFileSync(log, 'utf8'));
        return match ? Number(match[1]) : undefined;
      }, `tcpecho ${mode} to listen`);
      return running(child, port);
    },
  };
}

/** tcpecho's server on a Unix socket, `path` (event mode unless `extra` says otherwise). */
export function tcpechoUnixServer(path: string, extra: string[] = []): ServerSpec {
  const name = 'tcpecho event unix';
  return {
    name,
    idle: false,
    async start(cpu) {
      mkdirSync(OUT, { recursive: true });
      const log = `${OUT}server-${name.replaceAll(/[^a-z0-9]+/gi, '-')}.log`;
      const fd = openSync(log, 'w');
      const child = spawn(...onCpu(cpu, process.execPath, [CLI, 'server', '--unix', path, ...extra]), { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      await waitFor(() => (readFileSync(log, 'utf8').includes(`listening on unix:${path}`) ? true : undefined), 'tcpecho to listen on its Unix socket');
      return running(child, Number.NaN, { unix: path });
    },
  };
}

/** The plain Node server of the issue (`s.pipe(s)`) on a Unix socket, `path`. */
export function plainUnixServer(path: string): ServerSpec {
  return {
    name: 'plain node unix',
    idle: false,
    async start(cpu) {
      const child = spawn(...onCpu(cpu, process.execPath, [PLAIN, path]), { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await waitFor(() => (out.includes('\n') ? true : undefined), 'the plain server to listen on its Unix socket');
      return running(child, Number.NaN, { unix: path });
    },
  };
}

export const plainServer: ServerSpec = {
  name: 'plain node',
  idle: true,
  start: (cpu) => nodeScript(cpu, PLAIN, [], 'the plain server'),
};

/** A certificate and key, as files, that the TLS servers serve. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

/** The baseline of the TLS rows: a plain Node TLS echo (`tls.createServer`, `s.pipe(s)`). */
export function plainTlsServer(files: CertificateFiles): ServerSpec {
  return { name: 'plain node tls', idle: false, start: (cpu) => nodeScript(cpu, PLAIN_TLS, [files.cert, files.key], 'the plain TLS server') };
}

/** A Node script that prints its port on stdout once listening. */
async function nodeScript(cpu: number | undefined, script: string, args: string[], what: string): Promise<RunningServer> {
  const child = spawn(...onCpu(cpu, process.execPath, [script, ...args]), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const port = await waitFor(() => (/^\d+\n/.test(out) ? Number(out) : undefined), `${what} to listen`);
  return running(child, port);
}

/** The C epoll server, `bin` being its binary (see c-tools.ts). */
export function refechoServer(bin: string): ServerSpec {
  return external('refecho (C)', true, (port) => [bin, [String(port)]]);
}

/** socat forking `cat` for every client: the classic C fork-per-client server, when installed. */
export function socatServer(): ServerSpec | undefined {
  const bin = ['/usr/bin/socat', '/usr/local/bin/socat'].find((path) => existsSync(path));
  if (bin === undefined) return undefined;
  return external('socat fork', false, (port) => [bin, [`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, 'EXEC:cat']]);
}

/** socat's OpenSSL listener forking `cat` for every client (no client certificate asked), when installed. */
export function socatTlsServer(files: CertificateFiles): ServerSpec | undefined {
  const bin = ['/usr/bin/socat', '/usr/local/bin/socat'].find((path) => existsSync(path));
  if (bin === undefined) return undefined;
  return external('socat tls', false, (port) => [bin, [`OPENSSL-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr,cert=${files.cert},key=${files.key},verify=0`, 'EXEC:cat']]);
}

/** `ncat --ssl` running `cat` for every client, when installed. */
export function ncatTlsServer(files: CertificateFiles): ServerSpec | undefined {
  const bin = ['/usr/bin/ncat', '/usr/local/bin/ncat'].find((path) => existsSync(path));
  if (bin === undefined) return undefined;
  return external('ncat tls', false, (port) => [bin, ['--ssl', '--ssl-cert', files.cert, '--ssl-key', files.key, '-l', '-k', '--exec', '/bin/cat', '127.0.0.1', String(port)]]);
}

/** ncat running `cat` for every client (`--exec` forks one per connection), when installed. */
export function ncatServer(): ServerSpec | undefined {
  const bin = ['/usr/bin/ncat', '/usr/local/bin/ncat'].find((path) => existsSync(path));
  if (bin === undefined) return undefined;
  return external('ncat fork', false, (port) => [bin, ['-l', '-k', '--exec', '/bin/cat', '127.0.0.1', String(port)]]);
}

/**
 * `command` and its arguments, run on CPU `cpu` only (through taskset, which execs the command:
 * the pid is the command's) when `cpu` is given. Processes it starts inherit the CPU.
 */
export function onCpu(cpu: number | undefined, command: string, args: string[]): [string, string[]] {
  return cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
}

/**
 * A server that takes its port on the command line: `command(port)` gives what to run, for a port
 * that was free a moment ago.
 */
function external(name: string, idle: boolean, command: (port: number) => [string, string[]]): ServerSpec {
  return {
    name,
    idle,
    async start(cpu) {
      const port = await freePort();
      const [bin, args] = command(port);
      // In a process group of its own: its per-connection children (socat's and ncat's forks) are
      // stopped with it. A stuck ncat --ssl stream connection otherwise outlived the run.
      const child = spawn(...onCpu(cpu, bin, args), { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`${name} exited at start (code ${child.exitCode})`);
        return listeningOn(port) ? port : undefined;
      }, `${name} to listen on ${port}`);
      return running(child, port, { group: true });
    },
  };
}

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Process groups of servers started detached and not yet stopped: ended if this script is. */
const liveGroups = new Set<number>();
function killGroup(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    // The group is gone already.
  }
}
let passingSignals = false;
/** A detached group does not get the terminal's Ctrl-C: once there is one, pass it on, then end as the signal would. */
function passSignals(): void {
  if (passingSignals) return;
  passingSignals = true;
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.once(name, () => {
      for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
      process.exit(128 + (name === 'SIGINT' ? 2 : 15));
    });
  }
}

/**
 * `unix`: the socket path it listens on. `group`: the child leads a process group of its own
 * (`detached`), and the whole group is signalled.
 */
function running(child: ChildProcess, port: number, { unix, group = false }: { unix?: string; group?: boolean } = {}): RunningServer {
  if (group) {
    liveGroups.add(child.pid as number);
    passSignals();
  }
  const signal = (name: NodeJS.Signals): void => {
    if (!group) return void child.kill(name);
    killGroup(child.pid as number, name);
    if (name === 'SIGKILL') liveGroups.delete(child.pid as number);
  };
  return {
    port,
    ...(unix === undefined ? {} : { unix }),
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return signal('SIGKILL');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      // What the group's leader leaves behind (a stuck per-connection child) goes with it.
      if (group) signal('SIGKILL');
    },
  };
}

/** Polls `probe` every 20 ms until it gives a value, for at most `ms`. */
export async function waitFor<T>(probe: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
