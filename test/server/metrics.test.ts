// The figures of a library server, on /metrics and from server.metrics(): the exact counts of what
// a test did, in every mode (fork children and cluster workers report over IPC), and the health
// and readiness routes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { startEchoServer, startMetricsEndpoint, type EchoServer, type EchoServerOptions } from '../../src/index.js';
import { connectTo, echoOf, readExactly } from '../helpers/echo.js';
import { httpGet, parseMetrics, refusedAt, samplesOf, scrape, sorted } from '../helpers/metrics.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const MODES: Array<{ name: string; options: EchoServerOptions }> = [
  { name: 'event', options: { mode: 'event' } },
  { name: 'fork', options: { mode: 'fork', spare: 1 } },
  // maxConnections 2 is one a worker: the two held clients fill both (round-robin), the third is refused.
  { name: 'cluster', options: { mode: 'cluster', workers: 2, balance: 'rr' } },
];

/** Counts the server's events, to wait for the records that come over IPC after the client saw its close. */
function tally(server: EchoServer): { closes: () => number; rejects: () => number } {
  let closes = 0;
  let rejects = 0;
  server.on('disconnect', () => closes++);
  server.on('reject', () => rejects++);
  return { closes: () => closes, rejects: () => rejects };
}

/** A client that `server` closes at once (refused on its address, or past the limit). */
async function refusedClient(port: number, localAddress = '127.0.0.1'): Promise<void> {
  const client = net.connect({ port, host: '127.0.0.1', localAddress });
  client.on('error', () => {});
  client.resume();
  await within(once(client, 'close'), 5000, `the refused client from ${localAddress} closed`);
}

/**
 * Three clean echoes of 1000 bytes, one client that resets after 500 echoed, one denied client,
 * then two held clients (one byte each) that fill `maxConnections: 2` and a third refused for it:
 * 6 connections, 5 eof and 1 reset, 3502 bytes each way, rejections 1 denied and 1 max-connections.
 */
async function knownTraffic(server: EchoServer): Promise<void> {
  const { port } = server.address;
  const { closes, rejects } = tally(server);
  // Each client is done (its close recorded) before the next, so that the held ones below are
  // the only ones open.
  const idle = (): Promise<void> => until(() => server.connections === 0, 5000, () => `no connection open (now ${server.connections})`);
  for (let i = 0; i < 3; i++) {
    assert.equal((await echoOf(port, Buffer.alloc(1000, i))).length, 1000);
    await idle();
  }
  const resetting = await connectTo(port);
  resetting.write(Buffer.alloc(500, 7));
  await readExactly(resetting, 500);
  resetting.resetAndDestroy();
  await refusedClient(port, '127.0.0.2');
  await until(() => closes() === 4 && rejects() === 1, 5000, () => `4 closes and 1 reject (now ${closes()}, ${rejects()})`);
  await idle();
  const held = [await connectTo(port), await connectTo(port)];
  for (const client of held) {
    client.write('h');
    await readExactly(client, 1);
  }
  await refusedClient(port);
  await until(() => rejects() === 2, 5000, 'the max-connections reject');
  for (const client of held) {
    const ended = once(client, 'end');
    client.resume();
    client.end();
    await within(ended, 5000, 'the held client ended');
  }
  await until(() => closes() === 6, 5000, () => `6 closes (now ${closes()})`);
  await idle();
}

for (const { name, options } of MODES) {
  test(`${name}: /metrics counts accepted, closed by reason, rejected by reason, bytes and durations exactly; server.metrics() is the same figures`, async (t) => {
    const server = await startTestServer(t, { ...options, deny: ['127.0.0.2'], maxConnections: 2, metrics: { port: 0 } });
    const url = server.metricsUrl as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await knownTraffic(server);
    if (name === 'fork') await until(() => server.sparePids.length === 1 && server.childPids.length === 1, 5000, 'only the spare left');
    const page = await httpGet(`${url}/metrics`);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/plain; version=0\.0\.4/);
    assert.match(page.body, new RegExp(`^tcpecho_connections_total\\{mode="${name}"\\} 6$`, 'm'));
    const m = parseMetrics(page.body);
    assert.equal(m.get('tcpecho_connections_total'), 6);
    assert.equal(m.get('tcpecho_connections_open'), 0);
    assert.equal(m.get('tcpecho_connections_closed_total{reason="eof"}'), 5);
    assert.equal(m.get('tcpecho_connections_closed_total{reason="reset"}'), 1);
    assert.equal(m.get('tcpecho_connections_rejected_total{reason="denied"}'), 1);
    assert.equal(m.get('tcpecho_connections_rejected_total{reason="max-connections"}'), 1);
    assert.equal(m.get('tcpecho_received_bytes_total'), 3502);
    assert.equal(m.get('tcpecho_echoed_bytes_total'), 3502);
    assert.equal(m.get('tcpecho_connection_duration_seconds_count'), 6);
    assert.equal(m.get('tcpecho_connection_duration_seconds_bucket{le="+Inf"}'), 6);
    assert.equal(m.has('tcpecho_faults_applied_total{fault="close"}'), false);
    if (name === 'event') assert.equal(m.has('tcpecho_processes{role="child"}'), false);
    if (name === 'cluster') {
      assert.equal(m.get('tcpecho_processes{role="worker"}'), 2);
      assert.equal(m.get('tcpecho_worker_restarts_total'), 0);
    }
    if (name === 'fork') {
      assert.equal(m.get('tcpecho_processes{role="child"}'), 1);
      assert.equal(m.get('tcpecho_processes{role="spare"}'), 1);
      // A child for each of the six clients, and the spare alive now; none failed.
      assert.equal(m.get('tcpecho_child_starts_total'), 7);
      assert.equal(m.get('tcpecho_child_start_failures_total'), 0);
      // Each client's socket reached its child once, from accept.
      assert.equal(m.get('tcpecho_handoff_seconds_count'), 6);
      assert.ok((m.get('tcpecho_handoff_seconds_sum') as number) > 0);
    }
    // Every series of the page, and no other, from the object.
    assert.deepEqual(sorted(m), samplesOf(server.metrics()));
  });
}

test('fork: starts counted exactly; a child killed before it was ready is a failed start, and is replaced', async (t) => {
  const server = await startTestServer(t, { mode: 'fork', spare: 2 });
  // The spares were started as the server began listening; none can be ready yet (~140 ms each).
  const [first] = server.childPids;
  assert.equal(server.metrics().fork?.childStarts, 2);
  process.kill(first as number, 'SIGKILL');
  await until(() => server.sparePids.length === 2, 10_000, 'two ready spares again');
  assert.deepEqual({ ...server.metrics().fork, handOffSeconds: undefined }, { children: 2, spares: 2, childStarts: 3, childStartFailures: 1, handOffSeconds: undefined });
  // A client takes a spare; a replacement starts; the client's child exits when it leaves.
  assert.equal((await echoOf(server.address.port, Buffer.from('one'))).toString(), 'one');
  await until(() => server.sparePids.length === 2 && server.childPids.length === 2, 10_000, 'two spares and nothing else');
  const fork = server.metrics().fork;
  assert.equal(fork?.childStarts, 4);
  assert.equal(fork?.childStartFailures, 1);
  assert.equal(fork?.handOffSeconds.count, 1);
});

test('cluster: a worker killed is replaced and tcpecho_worker_restarts_total counts it', async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 2, metrics: { port: 0 } });
  const [victim] = server.childPids;
  process.kill(victim as number, 'SIGKILL');
  await until(() => server.metrics().cluster?.workerRestarts === 1, 10_000, 'the restart');
  await until(() => server.childPids.length === 2 && !server.childPids.includes(victim as number), 10_000, 'two workers, the victim gone');
  // The replacement serves.
  for (let i = 0; i < 2; i++) assert.equal((await echoOf(server.address.port, Buffer.from('after'))).toString(), 'after');
  const m = await scrape(server.metricsUrl as string);
  assert.equal(m.get('tcpecho_worker_restarts_total'), 1);
  assert.equal(m.get('tcpecho_processes{role="worker"}'), 2);
});

test('event: tcpecho_connections_open counts a client still connected; server.metrics() works without the endpoint', async (t) => {
  const server = await startTestServer(t);
  assert.equal(server.metricsUrl, undefined);
  const client = await connectTo(server.address.port);
  t.after(() => client.destroy());
  client.write('hold');
  await readExactly(client, 4);
  const figures = server.metrics();
  assert.equal(figures.open, 1);
  assert.equal(figures.connections, 1);
  assert.equal(figures.fork, undefined);
  assert.equal(figures.cluster, undefined);
  // An endpoint started later serves the figures from the server's start.
  const endpoint = await startMetricsEndpoint(server, { port: 0 });
  t.after(() => endpoint.close());
  const m = await scrape(endpoint.url);
  assert.equal(m.get('tcpecho_connections_open'), 1);
  assert.equal(m.get('tcpecho_connections_total'), 1);
});

test('two servers in one process keep their own figures', async (t) => {
  const a = await startTestServer(t, { metrics: { port: 0 } });
  const b = await startTestServer(t, { metrics: { port: 0 } });
  await echoOf(a.address.port, Buffer.from('only a'));
  await until(() => a.connections === 0, 5000, 'a idle');
  assert.equal((await scrape(a.metricsUrl as string)).get('tcpecho_connections_total'), 1);
  assert.equal((await scrape(b.metricsUrl as string)).get('tcpecho_connections_total'), 0);
});

test('the metrics option: /healthz 200; /readyz 200, 503 from the moment close() starts a drain; the endpoint closes with the server', async (t) => {
  const server = await startTestServer(t, { drainTimeoutMs: 30_000, metrics: { port: 0, host: '127.0.0.1' } });
  const url = server.metricsUrl as string;
  assert.equal((await httpGet(`${url}/healthz`)).status, 200);
  assert.equal((await httpGet(`${url}/readyz`)).status, 200);
  const client = await connectTo(server.address.port);
  t.after(() => client.destroy());
  client.write('x');
  await readExactly(client, 1);
  const closing = server.close();
  assert.equal(server.closing, true);
  assert.equal((await httpGet(`${url}/readyz`)).status, 503);
  assert.equal((await httpGet(`${url}/healthz`)).status, 200);
  // The drain's figures are still served.
  assert.equal((await scrape(url)).get('tcpecho_connections_open'), 1);
  client.end();
  await within(closing, 10_000, 'drain once the client left');
  await refusedAt(url);
});

test('the metrics option is checked: a bad port or an unknown field is TCPECHO_ERR_USAGE naming it', async () => {
  await assert.rejects(startEchoServer({ metrics: { port: 70_000 } }), { code: 'TCPECHO_ERR_USAGE', message: /`metrics\.port`.*70000/ });
  await assert.rejects(startEchoServer({ metrics: { port: 0, hots: 'x' } as never }), { code: 'TCPECHO_ERR_USAGE', message: /`metrics\.hots`/ });
  await assert.rejects(startEchoServer({ metrics: 9090 as never }), { code: 'TCPECHO_ERR_USAGE', message: /`metrics`/ });
  await assert.rejects(startEchoServer({ metrics: { port: 0, host: '' } }), { code: 'TCPECHO_ERR_USAGE', message: /`metrics\.host`/ });
});

/** Listening sockets and child processes of this process now. */
function listenersAndChildren(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'ProcessWrap').length;
}

for (const mode of ['event', 'fork', 'cluster'] as const) {
  test(`${mode}: a metrics port in use is TCPECHO_ERR_ADDRESS_IN_USE, and the failed start leaves nothing running`, async (t) => {
    const holder = net.createServer();
    holder.listen(0, '127.0.0.1');
    await within(once(holder, 'listening'), 5000, 'holder listening');
    t.after(() => holder.close());
    const port = (holder.address() as net.AddressInfo).port;
    const before = listenersAndChildren();
    const extra: EchoServerOptions = mode === 'cluster' ? { workers: 2 } : mode === 'fork' ? { spare: 1 } : {};
    await assert.rejects(within(startEchoServer({ mode, ...extra, metrics: { port } }), 20_000, 'the failed start'), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
    // At most as many as before (a previous test's may still be closing), never one more.
    await until(() => listenersAndChildren() <= before, 5000, () => `no listener or child left (${process.getActiveResourcesInfo().join(', ')})`);
  });
}

test('unknown paths are 404 and other methods 405', async (t) => {
  const server = await startTestServer(t, { metrics: { port: 0 } });
  const url = server.metricsUrl as string;
  assert.equal((await httpGet(`${url}/nope`)).status, 404);
  const status = await new Promise<number>((resolve, reject) => {
    const request = http.request(`${url}/metrics`, { method: 'POST' }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
  assert.equal(status, 405);
});
