// The server's log is bounded: with its stderr going to a pipe nobody reads, lines are dropped and
// counted, the echo goes on, and one line says how many were lost once the pipe drains.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { CLI } from '../helpers/cli.js';
import { echoOf } from '../helpers/echo.js';
import { within } from '../helpers/timeout.js';

/** Opens and closes `count` connections, `parallel` at a time; each one logs two lines. */
async function churn(port: number, count: number, parallel: number): Promise<void> {
  let started = 0;
  async function loop(): Promise<void> {
    while (started < count) {
      started++;
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.end();
      await once(socket, 'close');
    }
  }
  await Promise.all(Array.from({ length: parallel }, loop));
}

test('a server whose stderr nobody reads drops log lines past its bound, keeps echoing, and says how many it dropped', async (t) => {
  const child = spawn(process.execPath, [CLI, 'server', '-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const stderr = child.stderr;
  let text = '';
  const onData = (chunk: Buffer): void => void (text += chunk.toString());
  stderr.on('data', onData);
  await within(new Promise<void>((resolve) => stderr.on('data', () => /listening on .*\n/.test(text) && resolve())), 10_000, 'the ready line');
  const port = Number(/:(\d+) \(mode/.exec(text)?.[1]);
  // From here on nobody reads: the pipe fills (64 KiB) and the server's writes queue behind it.
  stderr.off('data', onData);
  stderr.pause();

  // About 110 bytes a line, two lines a connection: 12,000 connections log ~2.6 MiB, past the
  // 1 MiB bound whatever the pipe and our side hold.
  await within(churn(port, 12_000, 8), 90_000, '12,000 connections');
  const data = Buffer.from('still echoing while the log is stuck\n');
  assert.deepEqual(await echoOf(port, data), data);

  text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  stderr.resume();
  // Every line is either written or counted as dropped: 2 per connection, 12,001 connections.
  const tally = (): { written: number; dropped: number } => ({
    written: (text.match(/ (open|close) #\d+ /g) ?? []).length,
    dropped: [...text.matchAll(/warning (\d+) log lines dropped\n/g)].reduce((sum, m) => sum + Number(m[1]), 0),
  });
  await within(new Promise<void>((resolve) => {
    const check = (): void => void (tally().written + tally().dropped === 24_002 && resolve());
    stderr.on('data', check);
    check();
  }), 20_000, 'every line written or counted').catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(tally())}`));
  const { written, dropped } = tally();
  // The bound (1 MiB, ~10,000 lines) and the pipe's 64 KiB let through well under the 24,002 lines.
  assert.ok(dropped > 5000, `dropped ${dropped}, written ${written}`);
  child.kill('SIGTERM');
  await within(once(child, 'exit'), 10_000, 'server exit');
});
