// Moving an accepted socket to one that reads into a caller's buffer (src/server/adopt-socket.ts),
// and the echo's read buffers under load (the shared one, and the pool buffers of streaming
// connections): every connection must still get exactly its own bytes back while some of its
// echoes wait in the kernel, and every pool buffer must come back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { adoptWithOnread } from '../../src/server/adopt-socket.js';
import { BufferPool } from '../../src/server/buffer-pool.js';
import { echoConnection } from '../../src/server/echo-connection.js';
import { EchoContext } from '../../src/server/echo-context.js';
import { connectTo, endWithEcho, readAll, readExactly } from '../helpers/echo.js';
import { listenOnLoopback } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

async function listening(t: TestContext, options: net.ServerOpts): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(options);
  return { server, port: await listenOnLoopback(t, server) };
}

/**
 * An in-process echo on loopback serving every connection with `context` (as a dispatcher does);
 * the port. Every connection it serves is destroyed when the test ends.
 */
async function echoWith(t: TestContext, context: EchoContext): Promise<number> {
  const { server, port } = await listening(t, { allowHalfOpen: true, pauseOnConnect: true });
  const served = new Set<net.Socket>();
  server.on('connection', (socket) => {
    const echo = echoConnection(socket, context, () => served.delete(echo));
    served.add(echo);
  });
  t.after(() => {
    for (const socket of served) socket.destroy();
  });
  return port;
}

/** Adopts each accepted socket and collects what it reads through onread, until the client's FIN. */
function collectThroughOnread(server: net.Server): Promise<{ adopted: net.Socket | undefined; received: Promise<Buffer> }> {
  return new Promise((resolve) => {
    server.once('connection', (socket) => {
      const buffer = Buffer.alloc(1024);
      const chunks: Buffer[] = [];
      const adopted = adoptWithOnread(socket, {
        buffer,
        callback: (length) => {
          chunks.push(Buffer.from(buffer.subarray(0, length)));
          return true;
        },
      }, true);
      const received = adopted === undefined
        ? Promise.resolve(Buffer.alloc(0))
        : once(adopted, 'end').then(() => Buffer.concat(chunks));
      resolve({ adopted, received });
    });
  });
}

test('a paused accepted socket is adopted: every byte arrives through onread, and the server no longer counts the shell', async (t) => {
  const { server, port } = await listening(t, { pauseOnConnect: true });
  const accepted = collectThroughOnread(server);
  const client = await connectTo(port);
  t.after(() => client.destroy());
  const { adopted, received } = await accepted;
  assert.ok(adopted, 'adopted');
  t.after(() => adopted.destroy());
  const data = randomBytes(200_000);
  client.end(data);
  assert.ok((await within(received, 10_000, 'onread data')).equals(data));
  const count = await new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  assert.equal(count, 0);
});

test('a socket already reading (no pauseOnConnect) is adopted without losing the bytes the client sent at once', async (t) => {
  const { server, port } = await listening(t, {});
  const accepted = collectThroughOnread(server);
  // The bytes are written before the server has even accepted.
  const client = net.connect({ port, host: '127.0.0.1' });
  t.after(() => client.destroy());
  const data = randomBytes(50_000);
  client.end(data);
  const { adopted, received } = await accepted;
  assert.ok(adopted, 'adopted');
  t.after(() => adopted.destroy());
  assert.ok((await within(received, 10_000, 'onread data')).equals(data));
});

test('a socket that has been read from is not adopted, and keeps working', async (t) => {
  const { server, port } = await listening(t, { allowHalfOpen: true });
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = await connectTo(port);
  t.after(() => client.destroy());
  const socket = await accepted;
  t.after(() => socket.destroy());
  client.write('first');
  const [first] = (await within(once(socket, 'data'), 5000, 'first read')) as [Buffer];
  assert.equal(first.toString(), 'first');
  assert.equal(adoptWithOnread(socket, { buffer: Buffer.alloc(16), callback: () => true }, true), undefined);
  const rest = readAll(socket);
  client.end('second');
  assert.equal((await within(rest, 5000, 'the rest')).toString(), 'second');
});

test('the echo\'s read buffers: 8 clients that stall their reading each get exactly their own 8 MiB back, and every pool buffer comes back', async (t) => {
  const context = new EchoContext();
  const port = await echoWith(t, context);
  // Full 64 KiB reads take the bulk path: each streaming connection reads into a pool buffer of
  // its own, which its write holds while the stalled client leaves it in the server's queue.
  let mostLent = 0;
  const sampler = setInterval(() => (mostLent = Math.max(mostLent, context.bulkBuffersLent)), 1);
  t.after(() => clearInterval(sampler));
  const clients = await Promise.all(Array.from({ length: 8 }, async () => {
    const socket = await connectTo(port);
    t.after(() => socket.destroy());
    // Stalls long enough for the kernel's buffers to fill: the server's echoes then wait in its
    // queue while other connections read into the same buffer.
    let sinceStall = 0;
    socket.on('data', (chunk: Buffer) => {
      sinceStall += chunk.length;
      if (sinceStall >= 2 * 1024 * 1024) {
        sinceStall = 0;
        socket.pause();
        setTimeout(() => socket.resume(), 30);
      }
    });
    return { socket, data: randomBytes(8 * 1024 * 1024) };
  }));
  const echoes = await Promise.all(clients.map(({ socket, data }) => endWithEcho(socket, data, 60_000, 'stalling reader echo')));
  clients.forEach(({ data }, i) => assert.ok(echoes[i]?.equals(data), `client ${i} got someone else's bytes or lost some`));
  assert.ok(mostLent > 0, 'the streams went through pool buffers');
  // Each buffer goes back once its write is done or its connection closed without reading into it.
  await until(() => context.bulkBuffersLent === 0, 5000, () => `every pool buffer back (${context.bulkBuffersLent} still lent)`);
});

test('BufferPool: lends at most max buffers, each to one owner, and reuses what is given back', () => {
  const pool = new BufferPool(1024, 2);
  const a = pool.take();
  const b = pool.take();
  assert.ok(a !== undefined && b !== undefined && a !== b);
  assert.equal(a.length, 1024);
  assert.equal(pool.take(), undefined, 'a third is refused: memory stays bounded');
  pool.give(a);
  assert.equal(pool.lent, 1);
  assert.equal(pool.take(), a, 'the buffer given back is lent again, not a new one');
  assert.equal(pool.take(), undefined);
});

test('a connection that goes quiet right after a full read keeps one pool buffer, given back when it closes', async (t) => {
  const context = new EchoContext();
  const socket = await connectTo(await echoWith(t, context));
  t.after(() => socket.destroy());
  const lentBefore = context.bulkBuffersLent;
  // 128 KiB in one write lands in the server's receive queue at once: it reads two full 64 KiB
  // chunks, the second of which lends it a buffer for a next read that does not come.
  const data = randomBytes(128 * 1024);
  socket.write(data);
  assert.ok((await within(readExactly(socket, data.length), 5000, 'echo')).equals(data));
  await until(() => context.bulkBuffersLent === lentBefore + 1, 5000, () => `one buffer lent to the quiet connection (${context.bulkBuffersLent - lentBefore})`);
  socket.destroy();
  await until(() => context.bulkBuffersLent === lentBefore, 5000, () => `the buffer back after the close (${context.bulkBuffersLent - lentBefore} still lent)`);
});

test('16 KiB messages are read into pool buffers and echoed from them, held or not; every echo is exact and every buffer comes back', async (t) => {
  const context = new EchoContext();
  const port = await echoWith(t, context);
  const first = await connectTo(port);
  t.after(() => first.destroy());
  const exchange = async (socket: net.Socket, rounds: number): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      const message = randomBytes(16 * 1024);
      socket.write(message);
      assert.ok((await within(readExactly(socket, message.length), 5000, `echo ${i}`)).equals(message), `echo ${i} differs`);
    }
  };
  // Alone: echoed at once. The first message is read through the shared buffer; after it the
  // connection reads into a pool buffer of its own.
  await exchange(first, 10);
  assert.equal(context.held, 0);
  assert.equal(context.bulkBuffersLent, 1, 'the connection reads its next message into a pool buffer');
  // With a second connection open, the echoes wait for the end of the turn in their pool buffers.
  const second = await connectTo(port);
  t.after(() => second.destroy());
  await Promise.all([exchange(first, 20), exchange(second, 20)]);
  assert.ok(context.held >= 20, `${context.held} echoes held`);
  first.destroy();
  second.destroy();
  await until(() => context.open === 0, 5000, 'both connections closed');
  await until(() => context.bulkBuffersLent === 0, 5000, () => `every pool buffer back (${context.bulkBuffersLent} still lent)`);
});
