// Unix socket fixtures: a temporary directory, an abstract name of this run, a stale socket file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { within } from './timeout.js';

/** A fresh directory for socket files, removed when the test ends. */
export function socketDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An abstract name no other test or run uses. */
export function abstractName(): string {
  return `@tcpecho-test-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * A socket file nobody listens on, as a server killed by SIGKILL leaves it: a Node process binds
 * it and kills itself before libuv could remove it.
 */
export async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], { stdio: 'ignore' });
  const [, signal] = (await within(once(child, 'exit'), 10_000, 'the stale socket maker')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL');
  assert.ok(lstatSync(path).isSocket(), 'no stale socket file was left');
}

