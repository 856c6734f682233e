// Limits and timeouts: --max-connections, --idle-timeout, the accept backlog under a storm.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import type { ConnectionClose, ConnectionReject } from '../../src/index.js';
import { closedByPeer, connectTo, echoOf, endWithEcho, readExactly } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { cpuSeconds } from '../helpers/process.js';
import { until, within } from '../helpers/timeout.js';

test('max-connections: one past the limit is closed at once; the others are served; a slot frees on close', async (t) => {
  const server = await startTestServer(t, { maxConnections: 2 });
  const rejects: ConnectionReject[] = [];
  server.on('reject', (info) => rejects.push(info));
  const port = server.address.port;
  const first = await connectTo(port);
  const second = await connectTo(port);
  t.after(() => [first, second].forEach((s) => s.destroy()));
  for (const socket of [first, second]) {
    socket.write('in');
    await within(readExactly(socket, 2), 5000, 'echo within the limit');
  }

  const third = await connectTo(port);
  third.on('error', () => {});
  await within(closedByPeer(third), 5000, 'the third connection closed at once');
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0]?.reason, 'max-connections');
  assert.equal(server.rejectedConnections, 1);

  // The earlier ones are still served.
  first.write('still');
  assert.equal((await within(readExactly(first, 5), 5000, 'first still echoes')).toString(), 'still');

  // One leaves: a newcomer gets its slot.
  const closed = once(server, 'disconnect');
  second.end();
  second.resume();
  await within(closed, 5000, 'second closed');
  const data = randomBytes(1000);
  assert.ok((await echoOf(port, data)).equals(data));
});

test('fork mode, max-connections 1: a closed client frees its place at its close record, before its child has exited', async (t) => {
  const server = await startTestServer(t, { mode: 'fork', spare: 1, maxConnections: 1 });
  const rejects: ConnectionReject[] = [];
  server.on('reject', (info) => rejects.push(info));
  let openAtClose: number | undefined;
  const closed = new Promise<void>((resolve) => {
    server.once('disconnect', () => {
      openAtClose = server.connections;
      resolve();
    });
  });
  const data = randomBytes(1000);
  assert.ok((await endWithEcho(await connectTo(server.address.port), data, 5000, 'the first client')).equals(data));
  await within(closed, 5000, 'the first close record');
  assert.equal(openAtClose, 0, 'no connection open once its close is reported');
  // Straight after: served, not refused for a child still on its way out.
  assert.ok((await echoOf(server.address.port, data)).equals(data));
  assert.deepEqual(rejects, []);
});

for (const mode of ['event', 'fork'] as const) {
  test(`${mode} mode: idle-timeout closes a silent connection with reason idle; a talking one survives`, async (t) => {
    const server = await startTestServer(t, { mode, idleTimeoutMs: 600 });
    const closes: ConnectionClose[] = [];
    server.on('disconnect', (info) => closes.push(info));
    const silent = await connectTo(server.address.port);
    const chatty = await connectTo(server.address.port);
    t.after(() => [silent, chatty].forEach((s) => s.destroy()));
    silent.on('error', () => {});
    // The chatty one talks every 100 ms for twice the timeout; a loaded machine may stall it for
    // a few hundred ms and it must still count as talking.
    const silentGone = closedByPeer(silent);
    for (let i = 0; i < 12; i++) {
      chatty.write('.');
      await within(readExactly(chatty, 1), 5000, 'chatty echo');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await within(silentGone, 5000, 'the silent connection closed');
    await until(() => closes.length >= 1, 5000, 'close event');
    assert.equal(closes[0]?.reason, 'idle');
    assert.equal(closes.length, 1, 'the chatty connection is still open');
    chatty.write('ok');
    assert.equal((await within(readExactly(chatty, 2), 5000, 'chatty still served')).toString(), 'ok');
  });
}

test('idle-timeout reaps a client that half-closed and never reads its echo', async (t) => {
  const server = await startTestServer(t, { idleTimeoutMs: 300 });
  const closes: ConnectionClose[] = [];
  server.on('disconnect', (info) => closes.push(info));
  const socket = await connectTo(server.address.port);
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  socket.pause();
  // Far more than the kernel buffers hold, so the echo stays queued on the server.
  socket.end(randomBytes(32 * 1024 * 1024));
  await until(() => closes.length === 1, 10_000, 'the server reaps the connection');
  assert.equal(closes[0]?.reason, 'idle');
  assert.equal(server.connections, 0);
});

test('an idle-timeout of 0 (the default) never closes a quiet connection', async (t) => {
  const server = await startTestServer(t);
  const socket = await connectTo(server.address.port);
  t.after(() => socket.destroy());
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await endWithEcho(socket, 'late', 5000, 'late echo')).toString(), 'late');
});

test('3000 simultaneous connects are all served, with zero resets (backlog 4096)', async (t) => {
  const server = await startTestServer(t);
  const port = server.address.port;
  const payload = Buffer.from('storm');
  let resets = 0;
  let served = 0;
  const clients = Array.from({ length: 3000 }, () => {
    return new Promise<void>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => {
        resets++;
        resolve();
      });
      socket.on('end', () => {
        if (Buffer.concat(chunks).equals(payload)) served++;
        socket.destroy();
        resolve();
      });
      socket.on('connect', () => socket.end(payload));
    });
  });
  await within(Promise.all(clients), 60_000, '3000 clients');
  assert.equal(resets, 0);
  assert.equal(served, 3000);
});

test('cluster mode: one past max-connections is closed at once, not left hanging; nothing spins', async (t) => {
  // Two workers, a limit of 2: each worker takes one. Round-robin hands the third to a full worker.
  const server = await startTestServer(t, { mode: 'cluster', workers: 2, maxConnections: 2 });
  const rejects: ConnectionReject[] = [];
  server.on('reject', (info) => rejects.push(info));
  const held = [await connectTo(server.address.port), await connectTo(server.address.port)];
  t.after(() => held.forEach((s) => s.destroy()));
  for (const socket of held) {
    socket.write('in');
    await within(readExactly(socket, 2), 10_000, 'echo within the limit');
  }
  const third = await connectTo(server.address.port);
  third.on('error', () => {});
  await within(closedByPeer(third), 5000, 'the third connection closed at once');
  await until(() => rejects.length === 1, 5000, 'the reject reported');
  const before = server.childPids.map(cpuSeconds);
  const primaryBefore = cpuSeconds(process.pid);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const used = server.childPids.map((pid, i) => cpuSeconds(pid) - (before[i] as number));
  assert.ok(used.every((s) => s < 0.3), `workers used ${used.join(', ')} s of CPU in 1 s while idle`);
  assert.ok(cpuSeconds(process.pid) - primaryBefore < 0.5, 'the primary (this process) does not spin');
  held[0]?.write('ok');
  assert.equal((await within(readExactly(held[0] as net.Socket, 2), 5000, 'still served')).toString(), 'ok');
});
