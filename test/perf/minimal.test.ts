// The two floors the Performance section measures against: perf/minimal-echo.ts and
// perf/minimal-client.ts still run, echo, and refuse bad arguments. Their speed is the
// benchmark's business.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collect } from '../helpers/cli.js';
import { within } from '../helpers/timeout.js';

const ECHO = fileURLToPath(new URL('../../perf/minimal-echo.js', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../perf/minimal-client.js', import.meta.url));

test('the minimal echo echoes every byte, and the minimal client counts messages against it', async (t) => {
  const echo = spawn(process.execPath, [ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => echo.kill('SIGKILL'));
  const [line] = (await within(once(echo.stdout, 'data'), 10_000, 'the minimal echo to listen')) as [Buffer];
  const port = Number(line.toString().trim());
  assert.ok(port > 0, line.toString());

  // 1 MiB of every byte value in one go, then the half-close: all of it back, then its FIN.
  const sent = Buffer.alloc(1 << 20, 0).map((_, i) => i % 251);
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const received: Buffer[] = [];
  socket.on('data', (chunk) => received.push(chunk));
  socket.end(sent);
  await within(once(socket, 'end'), 10_000, 'the echo of 1 MiB and its FIN');
  assert.ok(Buffer.concat(received).equals(sent));
  socket.destroy();

  const client = spawn(process.execPath, [CLIENT, String(port), '--connections', '4', '--seconds', '0.5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collect(client, null, 20_000, 'the minimal client');
  assert.equal(result.code, 0, result.stderr);
  const figures = JSON.parse(result.stdout.toString()) as Record<string, number>;
  assert.ok((figures.messagesPerS as number) > 0, result.stdout.toString());
  assert.ok(Number.isFinite(figures.userUsPerMessage) && Number.isFinite(figures.systemUsPerMessage), result.stdout.toString());
});

for (const [script, args] of [[ECHO, ['http']], [CLIENT, []], [CLIENT, ['7', '--size', '1e9']]] as const) {
  test(`${script.split('/').pop()} ${args.join(' ')}: a usage line and exit 2`, async () => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result = await collect(child, null, 10_000, script);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^usage: minimal-(echo|client) /);
    assert.equal(result.stderr.trim().split('\n').length, 1);
  });
}
