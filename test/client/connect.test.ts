// The library's client side: connectEcho and echoRoundTrip, with their error codes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { connectEcho, echoRoundTrip } from '../../src/index.js';
import { startTestServer } from '../helpers/server.js';
import { stuckPort } from '../helpers/stuck-server.js';

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
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
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
