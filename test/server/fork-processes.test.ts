// Fork mode's process model: a process per client, reaped, capped, and never outliving the parent.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { ConnectionClose, ConnectionOpen } from '../../src/index.js';
import { spawnServer } from '../helpers/cli.js';
import { connectTo, echoOf, readAll, readExactly } from '../helpers/echo.js';
import { childrenOf, isRunning } from '../helpers/process.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

test('each client is served by a child process of its own', async (t) => {
  const server = await startTestServer(t, { mode: 'fork' });
  const opened: ConnectionOpen[] = [];
  server.on('open', (info) => opened.push(info));
  const sockets = await Promise.all(Array.from({ length: 5 }, () => connectTo(server.address.port)));
  t.after(() => sockets.forEach((s) => s.destroy()));
  // An echo on each proves its child has taken the connection over.
  for (const socket of sockets) {
    socket.write('ping');
    await within(readExactly(socket, 4), 10_000, 'echo from a child');
  }
  const pids = opened.map((info) => info.pid);
  assert.equal(new Set(pids).size, 5, `pids: ${pids.join(',')}`);
  const children = childrenOf(process.pid);
  for (const pid of pids) {
    assert.ok(pid !== undefined && pid !== process.pid);
    assert.ok(children.includes(pid), `pid ${pid} is not a child of the server process`);
  }
});

test('killing one child closes only its client; the others keep echoing', async (t) => {
  const server = await startTestServer(t, { mode: 'fork' });
  const opened: ConnectionOpen[] = [];
  const closed: ConnectionClose[] = [];
  server.on('open', (info) => opened.push(info));
  server.on('close', (info) => closed.push(info));
  const sockets = await Promise.all(Array.from({ length: 3 }, () => connectTo(server.address.port)));
  t.after(() => sockets.forEach((s) => s.destroy()));
  for (const socket of sockets) {
    socket.on('error', () => {});
    socket.write('ping');
    await within(readExactly(socket, 4), 10_000, 'first echo');
  }
  const [a, victim, c] = sockets as [typeof sockets[0], typeof sockets[0], typeof sockets[0]];
  const victimPid = opened[1]?.pid as number;
  const victimGone = new Promise((resolve) => {
    victim.once('end', resolve);
    victim.once('close', resolve);
  });
  victim.resume();
  process.kill(victimPid, 'SIGKILL');
  await within(victimGone, 5000, "the killed child's client sees the close");
  for (const socket of [a, c]) {
    const data = randomBytes(200_000);
    const received = readAll(socket);
    socket.end(data);
    assert.ok((await within(received, 10_000, 'echo from a surviving child')).equals(data));
  }
  await until(() => closed.length === 3, 5000, 'three close events');
  const victimClose = closed.find((info) => info.pid === victimPid);
  assert.equal(victimClose?.reason, 'child-exit');
  assert.equal(victimClose?.childExit, 'SIGKILL');
});

test('children exit and are reaped once their clients leave', async (t) => {
  const server = await startTestServer(t, { mode: 'fork' });
  const pids: number[] = [];
  server.on('open', (info) => pids.push(info.pid as number));
  await Promise.all(Array.from({ length: 6 }, () => echoOf(server.address.port, randomBytes(10_000))));
  await until(() => server.childPids.length === 0, 5000, 'no child left');
  assert.equal(pids.length, 6);
  // Not running and not a zombie either: reaped.
  for (const pid of pids) await until(() => !isRunning(pid), 5000, `pid ${pid} gone`);
  assert.deepEqual(childrenOf(process.pid).filter((pid) => pids.includes(pid)), []);
});

test('--max-children caps the children; clients past it wait unread and are all served', async (t) => {
  const server = await startTestServer(t, { mode: 'fork', maxChildren: 4 });
  let most = 0;
  server.on('open', () => {
    most = Math.max(most, server.childPids.length);
  });
  const payloads = Array.from({ length: 12 }, () => randomBytes(50_000));
  // Each client writes at once, long before a child exists for it.
  const echoes = await within(Promise.all(payloads.map((data) => echoOf(server.address.port, data, 30_000))), 30_000, 'all served');
  echoes.forEach((echoed, i) => assert.ok(echoed.equals(payloads[i] as Buffer), `client ${i}`));
  assert.equal(most, 4, 'the cap was reached and never passed');
});

test('a child that dies before taking its connection does not leave the client hanging', async (t) => {
  const server = await startTestServer(t, { mode: 'fork' });
  const closed: ConnectionClose[] = [];
  server.on('close', (info) => closed.push(info));
  // Kill the child as soon as it is started, before it can be ready for the hand-off.
  server.once('open', (info) => process.kill(info.pid as number, 'SIGKILL'));
  const socket = await connectTo(server.address.port);
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  const gone = new Promise((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
  });
  socket.resume();
  await within(gone, 5000, 'client closed by the parent');
  await until(() => closed.length === 1, 5000, 'close event');
  assert.equal(closed[0]?.reason, 'handoff-failed');
  // The server goes on serving.
  const data = randomBytes(1000);
  assert.ok((await echoOf(server.address.port, data)).equals(data));
});

test('no child outlives a parent killed with SIGKILL', async (t) => {
  const server = await spawnServer(t, ['--mode', 'fork']);
  const sockets = await Promise.all(Array.from({ length: 3 }, () => connectTo(server.port)));
  t.after(() => sockets.forEach((s) => s.destroy()));
  for (const socket of sockets) {
    socket.on('error', () => {});
    socket.write('ping');
    await within(readExactly(socket, 4), 10_000, 'echo');
  }
  const pids = server.lines.flatMap((line) => /open #\d+ \S+ pid=(\d+)/.exec(line)?.[1] ?? []).map(Number);
  assert.equal(pids.length, 3);
  const exited = once(server.child, 'exit');
  server.child.kill('SIGKILL');
  await within(exited, 5000, 'parent exit');
  for (const pid of pids) await until(() => !isRunning(pid), 5000, `child ${pid} to exit after its parent`);
});
