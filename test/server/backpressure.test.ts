// A client that sends and never reads must not grow the server: reading stops when the kernel
// will not take more echo, and everything arrives intact once the client reads again.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import net from 'node:net';
import { echoConnection } from '../../src/server/echo-connection.js';
import { EchoContext } from '../../src/server/echo-context.js';
import { spawnServer } from '../helpers/cli.js';
import { connectTo, readExactly, pseudoRandomBytes } from '../helpers/echo.js';
import { rssBytes } from '../helpers/process.js';
import { listenOnLoopback } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const TOTAL = 64 * 1024 * 1024;
/** Far below the 64 MiB that would pile up without backpressure. */
const MAX_GROWTH = 24 * 1024 * 1024;


/** Waits until nothing more leaves the client for a while: the flood has stalled. */
async function floodStalled(socket: net.Socket): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  await until(() => {
    const pending = socket.writableLength;
    if (pending !== last) {
      last = pending;
      stableSince = Date.now();
    }
    return Date.now() - stableSince > 300;
  }, 20_000, 'the flood to stall', 50);
}

/** Reads the rest of the echo; resolves with its length and SHA-256. */
async function readRest(socket: net.Socket): Promise<{ received: number; digest: string }> {
  const hash = createHash('sha256');
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
  });
  const ended = new Promise<void>((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  socket.resume();
  await within(ended, 60_000, 'the whole echo');
  return { received, digest: hash.digest('hex') };
}

for (const mode of ['event', 'fork'] as const) {
  test(`${mode} mode: 64 MiB sent without reading keeps server memory bounded, then all comes back`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode]);
    const socket = await connectTo(server.port);
    t.after(() => socket.destroy());
    // One echo first, so that whatever serves the connection is up and serving when measured.
    socket.write('x');
    await within(readExactly(socket, 1), 10_000, 'first echo');
    // Measure the process that echoes: the server itself, or the connection's child.
    let echoPid = server.child.pid as number;
    if (mode === 'fork') {
      const line = await server.waitForLine(/ open #1 .* pid=\d+/);
      echoPid = Number(/pid=(\d+)/.exec(line)?.[1]);
    }
    const before = rssBytes(echoPid);

    const data = pseudoRandomBytes(TOTAL, 0x9e3779b9);
    const expected = createHash('sha256').update(data).digest('hex');
    socket.end(data);
    await floodStalled(socket);
    assert.ok(socket.writableLength > 0, 'the server read everything: no backpressure was exercised');
    const growth = rssBytes(echoPid) - before;
    t.diagnostic(`RSS growth under the flood: ${(growth / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(growth < MAX_GROWTH, `server RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);

    // Now read: every byte comes back, in order.
    const { received, digest } = await readRest(socket);
    assert.equal(received, TOTAL);
    assert.equal(digest, expected);
  });
}

// The same flood in small writes, in process: the client writes 4 KiB a turn of the event loop,
// so every server read is short, and echoes of short reads wait for the end of the turn
// (src/write-batch.ts) while another connection is open: a second, idle one is. When the kernel
// will not take those either, reading must stop all the same.
test('event mode: 64 MiB in 4 KiB writes, one a turn, without reading: the echo stops reading, then all comes back', async (t) => {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  const context = new EchoContext();
  const served = new Promise<net.Socket>((resolve) => server.once('connection', (socket) => resolve(echoConnection(socket, context, () => {}))));
  const port = await listenOnLoopback(t, server);
  const socket = await connectTo(port);
  t.after(() => socket.destroy());
  // Each write leaves at once (with Nagle, a small write would wait for the last one's ACK).
  socket.setNoDelay(true);
  socket.pause();
  const echo = await served;
  t.after(() => echo.destroy());
  const idleServed = new Promise<net.Socket>((resolve) => server.once('connection', (s) => resolve(echoConnection(s, context, () => {}))));
  const idle = await connectTo(port);
  t.after(() => idle.destroy());
  const idleEcho = await idleServed;
  t.after(() => idleEcho.destroy());
  const heldBefore = context.held;

  const data = pseudoRandomBytes(TOTAL, 0x9e3779b9);
  const expected = createHash('sha256').update(data).digest('hex');
  let largestRead = 0;
  for (let offset = 0; offset < TOTAL; offset += 4096) {
    const before = echo.bytesRead;
    socket.write(data.subarray(offset, offset + 4096));
    await nextTurn();
    largestRead = Math.max(largestRead, echo.bytesRead - before);
  }
  socket.end();
  await floodStalled(socket);
  t.diagnostic(`the echo read ${(echo.bytesRead / 2 ** 20).toFixed(1)} MiB, at most ${largestRead} bytes a turn; ${(echo.writableLength / 2 ** 20).toFixed(2)} MiB queued in it`);
  assert.ok(largestRead < 65_536, 'a full read: this test is meant to exercise short reads only');
  assert.ok(context.held > heldBefore, 'no echo was held for the turn: this test is meant to exercise the hold');
  assert.ok(echo.bytesRead < TOTAL - MAX_GROWTH, `the echo read ${echo.bytesRead} bytes: it did not stop reading`);
  assert.ok(echo.writableLength < 1024 * 1024, `${echo.writableLength} bytes queued in the echo's memory`);

  const { received, digest } = await readRest(socket);
  assert.equal(received, TOTAL);
  assert.equal(digest, expected);
});
