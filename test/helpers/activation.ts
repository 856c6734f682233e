// Socket activation for tests: `systemd-socket-activate` (Debian package systemd) starting the
// built CLI with the socket it bound as fd 3, as systemd does; killed with its tree when the test ends.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { CLI, collect, type CliResult } from './cli.js';
import { processTree } from './process.js';
import { within } from './timeout.js';

export const noActivate = spawnSync('systemd-socket-activate', ['--version']).status !== 0 && 'systemd-socket-activate (Debian package systemd) is not installed';



export interface Activated {
  child: ChildProcess;
  lines: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/**
 * `systemd-socket-activate ACTIVATE... [WRAPPER...] node CLI server ARGS...`, killed when the test ends;
 * resolves once the activator listens (tcpecho itself starts at the first connection).
 */
export async function activate(t: TestContext, activateArgs: string[], serverArgs: string[], wrapper: string[] = []): Promise<Activated> {
  const child = spawn('systemd-socket-activate', [...activateArgs, ...wrapper, process.execPath, CLI, 'server', ...serverArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => {
    for (const pid of processTree(child.pid as number).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });
  const lines: string[] = [];
  const watchers = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of watchers) if (w.pattern.test(line)) watchers.delete(w), w.resolve(line);
    }
  });
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return within(new Promise<string>((resolve) => watchers.add({ pattern, resolve })), timeoutMs, `line ${pattern} (got: ${lines.join(' | ')})`);
  };
  await waitForLine(/^Listening on .* as 3\.$/);
  return { child, lines, waitForLine };
}

export function exitOf(child: ChildProcess, what: string): Promise<[number | null, NodeJS.Signals | null]> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve([child.exitCode, child.signalCode]);
  return within(once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>, 20_000, what);
}

/** One `tcpecho: ` line among the lines after the activator's own (which do not start so). */
export function assertOneLine(lines: string[], pattern: RegExp): void {
  const ours = lines.filter((line) => !/^(Listening on|Communication attempt|Execing|Received)/.test(line) && line !== '');
  assert.equal(ours.length, 1, ours.join('\n'));
  assert.match(ours[0] as string, /^tcpecho: /);
  assert.match(ours[0] as string, pattern);
}

/** `LISTEN_PID=$$ LISTEN_FDS=1 exec node CLI server ARGS` with `fd3` as descriptor 3. */
export function withFd3(fd3: number | net.Socket, args: string[] = [], env = 'LISTEN_PID=$$ LISTEN_FDS=1'): Promise<CliResult> {
  const child = spawn('sh', ['-c', `${env} exec "$0" "$@"`, process.execPath, CLI, 'server', ...args], { stdio: ['ignore', 'pipe', 'pipe', fd3] });
  return collect(child, undefined, 20_000, 'tcpecho server with fd 3');
}
