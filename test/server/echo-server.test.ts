// The library's server side: startEchoServer's options, errors and lifecycle.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { startEchoServer } from '../../src/index.js';
import { echoOf } from '../helpers/echo.js';

test('port 0 picks a free port and resolves once listening', async () => {
  await using server = await startEchoServer({ host: '127.0.0.1', port: 0 });
  assert.ok(server.address.port > 0);
  assert.equal(server.mode, 'event');
  assert.equal((await echoOf(server.address.port, Buffer.from('up'))).toString(), 'up');
});

test('a port in use rejects with TCPECHO_ERR_ADDRESS_IN_USE', async (t) => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => blocker.close());
  const { port } = blocker.address() as net.AddressInfo;
  await assert.rejects(startEchoServer({ host: '127.0.0.1', port }), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
});

test('invalid options reject with TCPECHO_ERR_USAGE before listening', async () => {
  for (const options of [{ port: -1 }, { port: 1.5 }, { port: 65536 }, { maxChildren: 0 }, { mode: 'threads' as 'event' }]) {
    await assert.rejects(startEchoServer({ host: '127.0.0.1', ...options }), { code: 'TCPECHO_ERR_USAGE' }, JSON.stringify(options));
  }
});

test('close() and destroy() are safe to call twice', async () => {
  const server = await startEchoServer({ host: '127.0.0.1', port: 0 });
  const first = server.close();
  assert.equal(server.close(), first);
  await first;
  server.destroy();
  server.destroy();
});
