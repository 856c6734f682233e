// The ping-pong writes held back to the end of the event loop's turn: none is made early, each is
// made once and in order, a connection that failed meanwhile is skipped, and the batch fills again.
import assert from 'node:assert/strict';
import net from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { WriteBatch } from '../src/write-batch.js';
import { connectTo, readAll } from './helpers/echo.js';
import { listenOnLoopback } from './helpers/server.js';
import { until, within } from './helpers/timeout.js';

/**
 * A loopback server calling `onConnection` for each accepted socket; every socket it accepts, and
 * every one the test adds to `sockets`, is destroyed when the test ends.
 */
async function listening(t: TestContext, onConnection: (socket: net.Socket) => void): Promise<{ port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  const port = await listenOnLoopback(t, server);
  t.after(() => {
    for (const socket of sockets) socket.destroy();
  });
  return { port, sockets };
}

test('batched writes are made after the turn, each once and in order; ended and destroyed sockets are skipped', async (t) => {
  const received: Promise<Buffer>[] = [];
  const { port, sockets } = await listening(t, (socket) => received.push(readAll(socket)));
  const [a, b, gone, ended] = [await connectTo(port), await connectTo(port), await connectTo(port), await connectTo(port)];
  const writeErrors: Error[] = [];
  for (const socket of [gone, ended]) socket.on('error', (err) => writeErrors.push(err));
  sockets.push(a, b, gone, ended);

  const batch = new WriteBatch();
  batch.add(a, Buffer.from('a1'));
  batch.add(b, Buffer.from('b1'));
  batch.add(gone, Buffer.from('g1'));
  batch.add(ended, Buffer.from('e1'));
  batch.add(a, Buffer.from('a2'));
  gone.destroy();
  ended.end();
  assert.equal(a.bytesWritten + b.bytesWritten, 0, 'nothing is written before the turn ends');
  await nextTurn();
  assert.equal(a.bytesWritten, 4);
  assert.equal(b.bytesWritten, 2);
  assert.equal(ended.bytesWritten, 0);

  // Flushed batches fill and flush again.
  batch.add(b, Buffer.from('b2'));
  await nextTurn();
  a.end();
  b.end();
  await until(() => received.length === 4, 5000, 'four accepted connections');
  const settled = await within(Promise.allSettled(received), 5000, 'every connection to end');
  const texts = settled.map((r) => (r.status === 'fulfilled' ? String(r.value) : '')).sort();
  assert.deepEqual(texts, ['', '', 'a1a2', 'b1b2']);
  assert.deepEqual(writeErrors, []);
});

test('flush() makes the held writes at once; onFull is told of each write the kernel would not take', async (t) => {
  // Never reads: the client's writes fill the kernel's buffers, then queue in memory.
  const { port, sockets } = await listening(t, (socket) => socket.pause());
  const client = await connectTo(port);
  sockets.push(client);

  const full: net.Socket[] = [];
  const batch = new WriteBatch((socket) => full.push(socket));
  batch.add(client, Buffer.from('first'));
  assert.equal(batch.size, 1);
  batch.flush();
  assert.equal(batch.size, 0);
  assert.equal(client.bytesWritten, 5, 'flush() wrote without waiting for the turn to end');
  assert.deepEqual(full, []);

  // 64 MiB held in one turn is more than loopback's buffers take: the writes that queue in
  // memory are reported, each time.
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < 64; i++) batch.add(client, chunk);
  await nextTurn();
  assert.equal(batch.size, 0);
  assert.ok(full.length > 0 && full.length < 64, `onFull called ${full.length} times`);
  assert.ok(full.every((socket) => socket === client));
  assert.ok(client.writableLength > 0);
});

test('each held write\'s callback is called once it is done: after the write, or at the flush for a socket that can no longer be written to', async (t) => {
  const received: Promise<Buffer>[] = [];
  const { port, sockets } = await listening(t, (socket) => received.push(readAll(socket)));
  const [open, gone] = [await connectTo(port), await connectTo(port)];
  gone.on('error', () => {});
  sockets.push(open, gone);
  const done: string[] = [];
  const batch = new WriteBatch();
  batch.add(open, Buffer.from('o1'), () => done.push('o1'));
  batch.add(gone, Buffer.from('g1'), () => done.push('g1'));
  batch.add(open, Buffer.from('o2'));
  gone.destroy();
  assert.deepEqual(done, [], 'no callback before the flush');
  batch.flush();
  assert.deepEqual(done, ['g1'], 'the destroyed socket\'s callback at the flush, the other after its write');
  await until(() => done.length === 2, 5000, 'the written callback');
  assert.deepEqual(done, ['g1', 'o1']);
  open.end();
  await until(() => received.length === 2, 5000, 'two accepted connections');
  const [echoed] = await within(Promise.all([received[0] as Promise<Buffer>]), 5000, 'the open connection to end');
  assert.equal(String(echoed), 'o1o2');
});
