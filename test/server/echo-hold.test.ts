// The echo of a short read waits for the end of the event loop's turn only while the process has
// another connection whose echoes it could go out with (src/server/echo-connection.ts): with one
// connection the hold gains nothing and costs CPU on every message (fork children always have
// one). Either way every byte comes back, in order.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { echoConnection } from '../../src/server/echo-connection.js';
import { EchoContext } from '../../src/server/echo-context.js';
import { connectTo, pingPong } from '../helpers/echo.js';
import { listenOnLoopback } from '../helpers/server.js';
import { until } from '../helpers/timeout.js';

test('echoes are held for the turn only while another connection is open; every echo is exact', async (t) => {
  let open = 0;
  const context = new EchoContext();
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    open++;
    echoConnection(socket, context, () => open--);
  });
  const port = await listenOnLoopback(t, server);

  const first = await connectTo(port);
  t.after(() => first.destroy());
  await pingPong(first, 20);
  const alone = context.held;
  await pingPong(first, 20);
  assert.equal(context.held, alone, 'an echo was held with one connection open');

  const second = await connectTo(port);
  await until(() => open === 2, 5000, () => `the second connection served (${open} open)`);
  await pingPong(first, 20);
  assert.equal(context.held - alone, 20, 'with two connections open, each echo waits for the turn');

  second.destroy();
  await until(() => open === 1, 5000, () => `the second connection closed (${open} open)`);
  const afterClose = context.held;
  await pingPong(first, 20);
  assert.equal(context.held, afterClose, 'an echo was held after the other connection closed');
});
