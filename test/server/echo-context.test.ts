// The echo's state is per server (src/server/echo-context.ts): two servers in one process neither
// share counters nor change each other's behaviour, and a context can serve every connection the
// stream way (adoption off), through its option or the TCPECHO_ADOPT environment variable.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { echoConnection } from '../../src/server/echo-connection.js';
import { EchoContext } from '../../src/server/echo-context.js';
import { EventDispatcher } from '../../src/server/event-mode.js';
import { PLAIN_ECHO } from '../../src/server/echo-settings.js';
import { connectionServing } from '../../src/server/serve-connection.js';
import { connectTo, endWithEcho, pingPong } from '../helpers/echo.js';
import { listenOnLoopback } from '../helpers/server.js';
import { until } from '../helpers/timeout.js';

/** A loopback echo serving its connections with `context`; its port and how many it has open. */
async function echoWith(t: TestContext, context: EchoContext): Promise<{ port: number; open: () => number }> {
  const served = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    const echo = echoConnection(socket, context, () => served.delete(echo));
    served.add(echo);
  });
  const port = await listenOnLoopback(t, server);
  t.after(() => {
    for (const socket of served) socket.destroy();
  });
  return { port, open: () => served.size };
}

async function client(t: TestContext, port: number): Promise<net.Socket> {
  const socket = await connectTo(port);
  t.after(() => socket.destroy());
  return socket;
}

test('two contexts in one process keep separate counts: one server\'s connections do not make the other hold its echoes', async (t) => {
  const a = new EchoContext();
  const b = new EchoContext();
  const serverA = await echoWith(t, a);
  const serverB = await echoWith(t, b);
  const a1 = await client(t, serverA.port);
  await client(t, serverA.port);
  const b1 = await client(t, serverB.port);
  await until(() => serverA.open() === 2 && serverB.open() === 1, 5000, 'three connections served');
  assert.equal(a.open, 2);
  assert.equal(b.open, 1);

  // B has one connection of its own: nothing to batch its echo with, whatever A has open.
  await pingPong(b1, 20);
  assert.equal(b.held, 0, 'B held an echo because of A\'s connections');
  await pingPong(a1, 20);
  assert.equal(a.held, 20, 'A, with two connections open, holds each echo for the turn');
  assert.equal(b.held, 0, 'A\'s holds were counted on B');
  assert.deepEqual([a.adopted, a.streamed, b.adopted, b.streamed], [2, 0, 1, 0]);
});

test('adoption off: every connection is served the stream way, and echoes exactly', async (t) => {
  const context = new EchoContext({ adopt: false });
  const { port } = await echoWith(t, context);
  const data = randomBytes(3 * 1024 * 1024);
  assert.ok((await endWithEcho(await client(t, port), data, 20_000, 'stream-path echo')).equals(data));
  const socket = await client(t, port);
  await pingPong(socket, 10);
  assert.equal(context.adopted, 0);
  assert.equal(context.streamed, 2);
  assert.equal(context.bulkBuffersLent, 0, 'the stream path reads into Node\'s buffers, not the pool');
});

test('TCPECHO_ADOPT=0 turns adoption off for contexts made without the option, as in a dispatcher', async (t) => {
  const before = process.env.TCPECHO_ADOPT;
  t.after(() => {
    if (before === undefined) delete process.env.TCPECHO_ADOPT;
    else process.env.TCPECHO_ADOPT = before;
  });
  delete process.env.TCPECHO_ADOPT;
  assert.equal(new EchoContext().adopt, true);
  process.env.TCPECHO_ADOPT = '0';
  assert.equal(new EchoContext().adopt, false);
  assert.equal(new EchoContext({ adopt: true }).adopt, true, 'the option wins over the environment');

  const dispatcher = new EventDispatcher({ open: () => {}, close: () => {}, warning: () => {} }, await connectionServing(new EchoContext(), PLAIN_ECHO));
  t.after(() => dispatcher.destroyAll());
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    dispatcher.dispatch(socket, { id: 1, remoteAddress: '127.0.0.1', remotePort: socket.remotePort ?? 0 });
  });
  const port = await listenOnLoopback(t, server);
  const data = randomBytes(100_000);
  assert.ok((await endWithEcho(await client(t, port), data, 10_000, 'dispatcher echo')).equals(data));
  assert.deepEqual([dispatcher.echo.adopted, dispatcher.echo.streamed], [0, 1]);
});
