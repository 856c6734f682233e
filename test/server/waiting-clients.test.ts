// Clients waiting for a process (fork mode's queue, the cluster primary's): bounded by
// maxConnections, and dropped when they leave while they wait.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ConnectionClose, ConnectionReject, EchoServer } from '../../src/index.js';
import { closedByPeer, connectTo, endWithEcho, readExactly } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const noProc = !existsSync('/proc/net/tcp') && 'no /proc/net/tcp here';

/** A fork server with its one child busy: every later client waits. */
async function busyForkServer(t: TestContext, maxConnections?: number): Promise<{ server: EchoServer; busy: net.Socket }> {
  const server = await startTestServer(t, { mode: 'fork', maxChildren: 1, spare: 0, ...(maxConnections === undefined ? {} : { maxConnections }) });
  const busy = await connectTo(server.address.port);
  t.after(() => busy.destroy());
  busy.write('busy');
  await within(readExactly(busy, 4), 10_000, 'the busy client served');
  return { server, busy };
}

test('fork mode: maxConnections counts waiting clients; one past it is closed at once and reported', async (t) => {
  const { server } = await busyForkServer(t, 2);
  const rejects: ConnectionReject[] = [];
  server.on('reject', (info) => rejects.push(info));
  const waiting = await connectTo(server.address.port);
  t.after(() => waiting.destroy());
  await until(() => server.connections === 2, 5000, 'the second client waiting');
  const extra = await connectTo(server.address.port);
  extra.on('error', () => {});
  await within(closedByPeer(extra), 5000, 'the third client closed at once');
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0]?.reason, 'max-connections');
  assert.equal(rejects[0]?.remotePort, extra.localPort);
  assert.equal(server.rejectedConnections, 1);
  assert.equal(server.connections, 2);
});

test('fork mode: a waiting client that leaves (FIN or reset) is dropped and reported gone; a half-closed one with data keeps its place', { skip: noProc }, async (t) => {
  const { server, busy } = await busyForkServer(t);
  const disconnects: ConnectionClose[] = [];
  server.on('disconnect', (info) => disconnects.push(info));
  const port = server.address.port;
  const quitter = await connectTo(port);
  const rude = await connectTo(port);
  const patient = await connectTo(port);
  t.after(() => [quitter, rude, patient].forEach((s) => s.destroy()));
  rude.on('error', () => {});
  await until(() => server.connections === 4, 5000, 'three clients waiting');
  // Read now: a socket that has closed no longer has a local port.
  const rudePort = rude.localPort;
  const quitterPort = quitter.localPort;
  const quitterGone = closedByPeer(quitter);
  quitter.end();
  rude.resetAndDestroy();
  // Sent its bytes and its FIN: it waits for its echo.
  const echoed = endWithEcho(patient, 'still here', 20_000, 'the patient client echoed');
  await until(() => disconnects.length === 2, 10_000, () => `two disconnects (now ${JSON.stringify(disconnects)})`);
  assert.deepEqual(disconnects.map((info) => info.reason), ['gone', 'gone']);
  assert.deepEqual(new Set(disconnects.map((info) => info.remotePort)), new Set([quitterPort, rudePort]));
  await within(quitterGone, 5000, "the quitter gets the server's FIN");
  assert.equal(server.connections, 2);
  busy.end();
  busy.resume();
  assert.equal((await echoed).toString(), 'still here');
});

test('cluster mode: with no worker ready, waiting clients are bounded by maxConnections and dropped when they leave', { skip: noProc }, async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 1, maxConnections: 2 });
  const rejects: ConnectionReject[] = [];
  const disconnects: ConnectionClose[] = [];
  server.on('reject', (info) => rejects.push(info));
  server.on('disconnect', (info) => disconnects.push(info));
  // From now on a new worker dies before it is ready: NODE_OPTIONS, inherited by the workers,
  // preloads a file that exits. The primary keeps restarting it, with a growing delay.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcpecho-die-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const die = path.join(dir, 'die.cjs');
  writeFileSync(die, 'process.exit(3);\n');
  const saved = process.env.NODE_OPTIONS;
  const restore = (): void => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  };
  t.after(restore);
  process.env.NODE_OPTIONS = `--require ${die}`;
  const [worker] = server.childPids as [number];
  process.kill(worker, 'SIGKILL');
  await until(() => !server.childPids.includes(worker), 5000, 'the worker gone');

  const port = server.address.port;
  const quitter = await connectTo(port);
  const waiting = await connectTo(port);
  t.after(() => [quitter, waiting].forEach((s) => s.destroy()));
  await until(() => server.connections === 2, 5000, 'two clients waiting');
  const extra = await connectTo(port);
  extra.on('error', () => {});
  await within(closedByPeer(extra), 5000, 'the third closed at once');
  assert.equal(rejects[0]?.reason, 'max-connections');

  const quitterPort = quitter.localPort;
  quitter.end();
  await until(() => disconnects.length === 1, 10_000, 'the quitter dropped');
  assert.equal(disconnects[0]?.reason, 'gone');
  assert.equal(disconnects[0]?.remotePort, quitterPort);
  assert.equal(server.connections, 1);

  // Workers start again: the one still waiting is served.
  restore();
  waiting.write('served at last');
  assert.equal((await within(readExactly(waiting, 14), 20_000, 'the waiting client served')).toString(), 'served at last');
});
