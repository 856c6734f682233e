// Cluster mode: the shared echo behaviours, then the process model: spreading, supervision, stop.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { ConnectionClose, ConnectionOpen } from '../../src/index.js';
import { spawnServer } from '../helpers/cli.js';
import { closedByPeer, connectTo, echoOf, endWithEcho, readExactly, servedClients } from '../helpers/echo.js';
import { childrenOf, isRunning } from '../helpers/process.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';
import { echoSuite } from './echo-suite.js';

echoSuite({ server: { mode: 'cluster', workers: 2 }, concurrentClients: 100 });

test('cluster: connections are spread over more than one worker, each named in its events', async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 2 });
  assert.equal(server.childPids.length, 2);
  const opened: ConnectionOpen[] = [];
  server.on('connection', (info) => opened.push(info));
  for (let i = 0; i < 10; i++) await echoOf(server.address.port, randomBytes(100));
  // A worker reports 'open' over IPC, which may arrive after the echo itself came back over TCP.
  await until(() => opened.length === 10, 5000, () => `ten open events (now ${opened.length})`);
  const pids = new Set(opened.map((info) => info.pid));
  assert.equal(pids.size, 2, `worker pids seen: ${[...pids].join(',')}`);
  for (const pid of pids) assert.ok(server.childPids.includes(pid as number));
  assert.equal(new Set(opened.map((info) => info.id)).size, 10, 'connection ids are unique across workers');
});

test('cluster, shared balance: workers accept on the shared socket and echo exactly', async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 2, balance: 'shared' });
  const payloads = Array.from({ length: 40 }, () => randomBytes(5000));
  const echoes = await Promise.all(payloads.map((data) => echoOf(server.address.port, data)));
  echoes.forEach((echoed, i) => assert.ok(echoed.equals(payloads[i] as Buffer)));
});

test('cluster: a killed worker is replaced; its client sees a close; the others keep echoing', async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 2 });
  const opened: ConnectionOpen[] = [];
  const closed: ConnectionClose[] = [];
  server.on('connection', (info) => opened.push(info));
  server.on('disconnect', (info) => closed.push(info));
  const sockets = await servedClients(t, server.address.port, 4, 'hi');
  await until(() => opened.length === 4, 5000, () => `four open events (now ${opened.length})`);
  const victimPid = opened[0]?.pid as number;
  // Which worker serves which client: the server sees the client's port as its remote port.
  const pidOf = (socket: (typeof sockets)[0]): number | undefined => opened.find((info) => info.remotePort === socket.localPort)?.pid;
  const victims = sockets.filter((socket) => pidOf(socket) === victimPid);
  const survivors = sockets.filter((socket) => pidOf(socket) !== victimPid);
  assert.ok(victims.length > 0 && survivors.length > 0);
  const gone = victims.map(closedByPeer);
  process.kill(victimPid, 'SIGKILL');
  await within(Promise.all(gone), 5000, "the dead worker's clients see the close");
  for (const socket of survivors) {
    const data = randomBytes(100_000);
    assert.ok((await endWithEcho(socket, data, 10_000, 'a survivor echoes')).equals(data));
  }
  await until(() => server.childPids.length === 2 && !server.childPids.includes(victimPid), 10_000, 'a replacement worker');
  assert.ok(closed.some((info) => info.pid === victimPid && info.reason === 'child-exit'));
  const data = randomBytes(1000);
  assert.ok((await echoOf(server.address.port, data)).equals(data));
});

test('cluster with the PROXY protocol: a worker killed while a connection waits for its header still reports that connection', async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 1, proxyProtocol: true });
  const opened: ConnectionOpen[] = [];
  const closed: ConnectionClose[] = [];
  server.on('connection', (info) => opened.push(info));
  server.on('disconnect', (info) => closed.push(info));
  const socket = await connectTo(server.address.port);
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  const gone = closedByPeer(socket);
  // No header sent: the worker holds the connection in its PROXY stage, with no `connection` event yet.
  await until(() => server.connections === 1, 5000, () => `the connection counted (now ${server.connections})`);
  assert.equal(opened.length, 0, 'no connection event before the header');
  const [victimPid] = server.childPids as [number];
  process.kill(victimPid, 'SIGKILL');
  await within(gone, 5000, 'the client sees its connection close');
  await until(() => closed.length === 1, 5000, 'its close reported');
  assert.equal(opened.length, 1, 'its connection event came first');
  assert.deepEqual([opened[0]?.id, opened[0]?.pid, opened[0]?.remotePort], [closed[0]?.id, victimPid, socket.localPort]);
  assert.equal(closed[0]?.reason, 'child-exit');
  assert.equal(closed[0]?.childExit, 'SIGKILL');
  await until(() => server.connections === 0, 5000, 'nothing left open');
});

test('cluster: workers that keep dying are restarted with a growing delay', async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 1 });
  const warnings: string[] = [];
  server.on('warning', (err) => warnings.push(err.message));
  for (let crash = 0; crash < 3; crash++) {
    const [pid] = server.childPids as [number];
    process.kill(pid, 'SIGKILL');
    await until(() => server.childPids.length === 1 && server.childPids[0] !== pid, 10_000, `restart ${crash + 1}`);
  }
  assert.match(warnings[0] ?? '', /restarting it$/);
  assert.match(warnings[1] ?? '', /restarting it in 100 ms$/);
  assert.match(warnings[2] ?? '', /restarting it in 200 ms$/);
  const data = randomBytes(100);
  await until(async () => (await echoOf(server.address.port, data).catch(() => Buffer.alloc(0))).equals(data), 10_000, 'serving again');
});

test('cluster CLI: one ready line once every worker listens; SIGTERM drains and leaves no process behind', async (t) => {
  const server = await spawnServer(t, ['--mode', 'cluster', '--workers', '2', '--drain-timeout', '5']);
  assert.equal(server.lines.filter((line) => line.startsWith('tcpecho listening')).length, 1);
  assert.match(server.lines[0] as string, /\(mode cluster\)$/);
  const workers = childrenOf(server.child.pid as number);
  assert.equal(workers.length, 2);
  const socket = await connectTo(server.port);
  t.after(() => socket.destroy());
  socket.write('before');
  await within(readExactly(socket, 6), 10_000, 'echo');
  await server.waitForLine(/ open #\d+ 127\.0\.0\.1:\d+ pid=\d+$/);
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await server.waitForLine(/received SIGTERM/);
  const data = randomBytes(10_000);
  assert.ok((await endWithEcho(socket, data, 5000, 'echo during the drain')).equals(data));
  const [code] = await within(exited, 10_000, 'primary exit');
  assert.equal(code, 0);
  for (const pid of workers) await until(() => !isRunning(pid), 5000, `worker ${pid} gone`);
});
