// The metrics endpoint of a library server: the exact counts of what a test did, in every mode
// (fork children and cluster workers report over IPC), and the health and readiness routes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { startMetricsEndpoint, type EchoServer, type EchoServerOptions } from '../../src/index.js';
import { connectTo, echoOf, readExactly } from '../helpers/echo.js';
import { httpGet, parseMetrics } from '../helpers/metrics.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const MODES: Array<{ name: string; options: EchoServerOptions }> = [
  { name: 'event', options: { mode: 'event' } },
  { name: 'fork', options: { mode: 'fork', spare: 1 } },
  { name: 'cluster', options: { mode: 'cluster', workers: 2 } },
];

/** Three clean echoes of 1000 bytes, one client that resets after 500 echoed, one denied client. */
async function knownTraffic(server: EchoServer): Promise<void> {
  const { port } = server.address;
  let closes = 0;
  let rejects = 0;
  server.on('disconnect', () => closes++);
  server.on('reject', () => rejects++);
  for (let i = 0; i < 3; i++) assert.equal((await echoOf(port, Buffer.alloc(1000, i))).length, 1000);
  const resetting = await connectTo(port);
  resetting.write(Buffer.alloc(500, 7));
  await readExactly(resetting, 500);
  resetting.resetAndDestroy();
  const denied = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
  denied.on('error', () => {});
  await within(once(denied, 'close'), 5000, 'the denied client closed');
  // Close records come over IPC in fork and cluster modes, possibly after the client saw the close.
  await until(() => closes === 4 && rejects === 1, 5000, () => `4 closes and 1 reject (now ${closes}, ${rejects})`);
  // Fork mode: a child's slot is free once the child has exited, a moment after its close record.
  await until(() => server.connections === 0, 5000, () => `no connection open (now ${server.connections})`);
}

for (const { name, options } of MODES) {
  test(`${name}: /metrics counts accepted, closed by reason, rejected, bytes and durations exactly`, async (t) => {
    const server = await startTestServer(t, { ...options, deny: ['127.0.0.2'] });
    const endpoint = await startMetricsEndpoint(server, { port: 0 });
    t.after(() => endpoint.close());
    await knownTraffic(server);
    const page = await httpGet(`${endpoint.url}/metrics`);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/plain; version=0\.0\.4/);
    assert.match(page.body, new RegExp(`^tcpecho_connections_total\\{mode="${name}"\\} 4$`, 'm'));
    const m = parseMetrics(page.body);
    assert.equal(m.get('tcpecho_connections_total'), 4);
    assert.equal(m.get('tcpecho_connections_open'), 0);
    assert.equal(m.get('tcpecho_connections_closed_total{reason="eof"}'), 3);
    assert.equal(m.get('tcpecho_connections_closed_total{reason="reset"}'), 1);
    assert.equal(m.get('tcpecho_connections_rejected_total{reason="denied"}'), 1);
    assert.equal(m.get('tcpecho_received_bytes_total'), 3500);
    assert.equal(m.get('tcpecho_echoed_bytes_total'), 3500);
    assert.equal(m.get('tcpecho_connection_duration_seconds_count'), 4);
    assert.equal(m.get('tcpecho_connection_duration_seconds_bucket{le="+Inf"}'), 4);
    if (name === 'cluster') assert.equal(m.get('tcpecho_processes{role="worker"}'), 2);
    if (name === 'fork') {
      assert.equal(m.get('tcpecho_processes{role="child"}'), server.childPids.length);
      assert.equal(m.get('tcpecho_processes{role="spare"}'), server.sparePids.length);
    }
    if (name === 'event') assert.equal(m.has('tcpecho_processes{role="child"}'), false);
  });
}

test('event: tcpecho_connections_open counts a client still connected', async (t) => {
  const server = await startTestServer(t);
  const endpoint = await startMetricsEndpoint(server, { port: 0 });
  t.after(() => endpoint.close());
  const client = await connectTo(server.address.port);
  t.after(() => client.destroy());
  client.write('hold');
  await readExactly(client, 4);
  const m = parseMetrics((await httpGet(`${endpoint.url}/metrics`)).body);
  assert.equal(m.get('tcpecho_connections_open'), 1);
  assert.equal(m.get('tcpecho_connections_total'), 1);
});

test('two servers in one process keep their own registries', async (t) => {
  const a = await startTestServer(t);
  const b = await startTestServer(t);
  const ea = await startMetricsEndpoint(a, { port: 0 });
  const eb = await startMetricsEndpoint(b, { port: 0 });
  t.after(() => Promise.all([ea.close(), eb.close()]));
  await echoOf(a.address.port, Buffer.from('only a'));
  await until(() => a.connections === 0, 5000, 'a idle');
  assert.equal(parseMetrics(await ea.metrics.text()).get('tcpecho_connections_total'), 1);
  assert.equal(parseMetrics(await eb.metrics.text()).get('tcpecho_connections_total'), 0);
});

test('/healthz is 200; /readyz is 200, then 503 from the moment close() starts a drain', async (t) => {
  const server = await startTestServer(t, { drainTimeoutMs: 30_000 });
  const endpoint = await startMetricsEndpoint(server, { port: 0 });
  t.after(() => endpoint.close());
  assert.equal((await httpGet(`${endpoint.url}/healthz`)).status, 200);
  assert.equal((await httpGet(`${endpoint.url}/readyz`)).status, 200);
  const client = await connectTo(server.address.port);
  t.after(() => client.destroy());
  client.write('x');
  await readExactly(client, 1);
  const closing = server.close();
  assert.equal(server.closing, true);
  assert.equal((await httpGet(`${endpoint.url}/readyz`)).status, 503);
  assert.equal((await httpGet(`${endpoint.url}/healthz`)).status, 200);
  client.end();
  await within(closing, 10_000, 'drain once the client left');
});

test('unknown paths are 404 and other methods 405', async (t) => {
  const server = await startTestServer(t);
  const endpoint = await startMetricsEndpoint(server, { port: 0 });
  t.after(() => endpoint.close());
  assert.equal((await httpGet(`${endpoint.url}/nope`)).status, 404);
  const status = await new Promise<number>((resolve, reject) => {
    const request = http.request(`${endpoint.url}/metrics`, { method: 'POST' }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
  assert.equal(status, 405);
});

test('a port in use is TCPECHO_ERR_ADDRESS_IN_USE, and nothing keeps counting', async (t) => {
  const server = await startTestServer(t);
  const first = await startMetricsEndpoint(server, { port: 0 });
  t.after(() => first.close());
  const port = Number(new URL(first.url).port);
  await assert.rejects(startMetricsEndpoint(server, { port }), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
  assert.equal(server.listenerCount('connection'), 1);
});

test('TLS: a plain-text client is counted as a handshake failure by its code', async (t) => {
  const server = await startTestServer(t, { tls: true });
  const endpoint = await startMetricsEndpoint(server, { port: 0 });
  t.after(() => endpoint.close());
  const closed = once(server, 'disconnect') as Promise<[{ errorCode?: string }]>;
  const plain = net.connect({ host: '127.0.0.1', port: server.address.port });
  plain.on('error', () => {});
  plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const [info] = await within(closed, 10_000, 'the plain client closed');
  plain.destroy();
  const m = parseMetrics(await endpoint.metrics.text());
  assert.equal(m.get('tcpecho_connections_closed_total{reason="tls-error"}'), 1);
  assert.equal(m.get(`tcpecho_tls_handshake_failures_total{code="${String(info.errorCode)}"}`), 1);
});
