// The library's client side: connectEcho, collectEcho and echoRoundTrip, their deadlines, aborts and error codes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { collectEcho, connectEcho, echoRoundTrip } from '../../src/index.js';
import { freePort, listenOnLoopback, startTestServer } from '../helpers/server.js';
import { stuckPort } from '../helpers/stuck-server.js';
import { within } from '../helpers/timeout.js';

test('echoRoundTrip sends, half-closes and returns the whole echo', async (t) => {
  const server = await startTestServer(t);
  const data = randomBytes(300_000);
  const echoed = await echoRoundTrip(data, { host: '127.0.0.1', port: server.address.port });
  assert.ok(echoed.equals(data));
});

test('connectEcho works over IPv6 loopback', async (t) => {
  const server = await startTestServer(t, { host: '::1' });
  assert.equal(server.url, `[::1]:${server.address.port}`);
  const echoed = await echoRoundTrip(Buffer.from('six'), { host: '::1', port: server.address.port });
  assert.equal(echoed.toString(), 'six');
});

test('a refused connection rejects with TCPECHO_ERR_CONNECT, keeping the cause', async () => {
  const port = await freePort();
  await assert.rejects(connectEcho({ host: '127.0.0.1', port }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'TCPECHO_ERR_CONNECT');
    assert.equal((err.cause as { code: string }).code, 'ECONNREFUSED');
    return true;
  });
});

test('no connection within timeoutMs rejects with TCPECHO_ERR_CONNECT_TIMEOUT', async (t) => {
  const port = await stuckPort(t);
  await assert.rejects(connectEcho({ host: '127.0.0.1', port, timeoutMs: 300 }), { code: 'TCPECHO_ERR_CONNECT_TIMEOUT' });
});

test('invalid options are usage errors', async () => {
  await assert.rejects(async () => connectEcho({ port: 70000 }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(async () => connectEcho({ port: 7, timeoutMs: 0 }), { code: 'TCPECHO_ERR_USAGE' });
});

/** A loopback server that reads everything and never echoes nor closes: an echo that never ends. */
async function silentPort(t: TestContext, onData: () => void = () => {}): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', onData);
  });
  t.after(() => sockets.forEach((s) => s.destroy()));
  return listenOnLoopback(t, server);
}

test('connectEcho leaves no error listener of its own: the caller hears every error', async (t) => {
  const server = await startTestServer(t);
  const socket = await connectEcho({ host: '127.0.0.1', port: server.address.port });
  t.after(() => socket.destroy());
  assert.equal(socket.listenerCount('error'), 0);
});

test('family: 4 connects over IPv4; a family that cannot be is a usage error', async (t) => {
  const server = await startTestServer(t);
  const socket = await connectEcho({ host: 'localhost', port: server.address.port, family: 4 });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  assert.equal(socket.remoteFamily, 'IPv4');
  await assert.rejects(connectEcho({ host: '127.0.0.1', port: server.address.port, family: 6 }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(connectEcho({ host: '::1', port: server.address.port, family: 4 }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(connectEcho({ port: server.address.port, family: 5 as 4 }), { code: 'TCPECHO_ERR_USAGE' });
});

test('aborting connectEcho while it connects rejects with TCPECHO_ERR_ABORTED, the reason as cause', async (t) => {
  const port = await stuckPort(t);
  const controller = new AbortController();
  const connecting = connectEcho({ host: '127.0.0.1', port, signal: controller.signal });
  const reason = new Error('user gave up');
  setImmediate(() => controller.abort(reason));
  await assert.rejects(within(connecting, 5000, 'aborted connect'), (err: Error & { code: string }) => {
    assert.equal(err.code, 'TCPECHO_ERR_ABORTED');
    assert.equal(err.name, 'AbortError');
    assert.equal(err.cause, reason);
    return true;
  });
});

test('an already aborted signal rejects at once with TCPECHO_ERR_ABORTED', async (t) => {
  const server = await startTestServer(t);
  let connections = 0;
  server.on('close', () => connections++);
  await assert.rejects(connectEcho({ host: '127.0.0.1', port: server.address.port, signal: AbortSignal.abort() }), { code: 'TCPECHO_ERR_ABORTED' });
  await assert.rejects(echoRoundTrip(Buffer.from('x'), { host: '127.0.0.1', port: server.address.port, signal: AbortSignal.abort() }), { code: 'TCPECHO_ERR_ABORTED' });
  assert.equal(connections, 0);
});

test('collectEcho: an echo that does not end within timeoutMs rejects with TCPECHO_ERR_ECHO_TIMEOUT and destroys the socket', async (t) => {
  const port = await silentPort(t);
  const socket = await connectEcho({ host: '127.0.0.1', port });
  t.after(() => socket.destroy());
  await assert.rejects(within(collectEcho(socket, Buffer.from('hello'), { timeoutMs: 200 }), 5000, 'collectEcho timeout'), { code: 'TCPECHO_ERR_ECHO_TIMEOUT' });
  assert.equal(socket.destroyed, true);
});

test('collectEcho: aborting it rejects with TCPECHO_ERR_ABORTED and destroys the socket', async (t) => {
  const port = await silentPort(t);
  const socket = await connectEcho({ host: '127.0.0.1', port });
  t.after(() => socket.destroy());
  const controller = new AbortController();
  const collecting = collectEcho(socket, Buffer.from('hello'), { signal: controller.signal });
  setImmediate(() => controller.abort());
  await assert.rejects(within(collecting, 5000, 'collectEcho abort'), { code: 'TCPECHO_ERR_ABORTED', name: 'AbortError' });
  assert.equal(socket.destroyed, true);
});

test('echoRoundTrip: timeoutMs bounds connecting (CONNECT_TIMEOUT) and the echo (ECHO_TIMEOUT)', async (t) => {
  const stuck = await stuckPort(t);
  await assert.rejects(within(echoRoundTrip(Buffer.from('x'), { host: '127.0.0.1', port: stuck, timeoutMs: 200 }), 5000, 'round trip to a stuck port'), {
    code: 'TCPECHO_ERR_CONNECT_TIMEOUT',
  });
  const silent = await silentPort(t);
  await assert.rejects(within(echoRoundTrip(Buffer.from('x'), { host: '127.0.0.1', port: silent, timeoutMs: 200 }), 5000, 'round trip to a silent server'), {
    code: 'TCPECHO_ERR_ECHO_TIMEOUT',
  });
});

test('echoRoundTrip: aborting mid-echo rejects with TCPECHO_ERR_ABORTED', async (t) => {
  const controller = new AbortController();
  // Aborted once the server has the bytes: the echo, not the connect, is what gets cut short.
  const port = await silentPort(t, () => controller.abort());
  const roundTrip = echoRoundTrip(Buffer.from('x'), { host: '127.0.0.1', port, signal: controller.signal });
  await assert.rejects(within(roundTrip, 5000, 'aborted round trip'), { code: 'TCPECHO_ERR_ABORTED' });
});

test('timeoutMs out of range is a usage error', async () => {
  await assert.rejects(echoRoundTrip(Buffer.from('x'), { port: 7, timeoutMs: 0 }), { code: 'TCPECHO_ERR_USAGE' });
  const socket = new net.Socket();
  await assert.rejects(collectEcho(socket, Buffer.from('x'), { timeoutMs: -1 }), { code: 'TCPECHO_ERR_USAGE' });
});

test('collectEcho: a peer that sends far more than it was sent is cut off at maxBytes (TCPECHO_ERR_ECHO_TOO_LONG)', async (t) => {
  // Not an echo: it answers every connection with an endless stream.
  const flood = Buffer.alloc(64 * 1024, 0x41);
  const port = await listenOnLoopback(t, net.createServer((socket) => {
    socket.on('error', () => {});
    const pump = (): void => {
      while (!socket.destroyed && socket.write(flood));
    };
    socket.on('drain', pump);
    pump();
  }));
  const socket = await connectEcho({ host: '127.0.0.1', port });
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  await assert.rejects(within(collectEcho(socket, Buffer.from('hello')), 10_000, 'collectEcho of a flood'), { code: 'TCPECHO_ERR_ECHO_TOO_LONG' });
  assert.equal(socket.destroyed, true);
  const second = await connectEcho({ host: '127.0.0.1', port });
  t.after(() => second.destroy());
  second.on('error', () => {});
  await assert.rejects(within(collectEcho(second, Buffer.from('hello'), { maxBytes: 5 }), 10_000, 'collectEcho maxBytes 5'), { code: 'TCPECHO_ERR_ECHO_TOO_LONG' });
});
