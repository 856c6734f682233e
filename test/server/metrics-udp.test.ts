// The figures of a UDP echo server on /metrics (library `metrics` option, and the CLI's
// `--udp --metrics-port`): datagrams echoed and dropped by reason, counted exactly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { startUdpEchoServer } from '../../src/index.js';
import { spawnServer } from '../helpers/cli.js';
import { httpGet, refusedAt, scrape } from '../helpers/metrics.js';
import { collectCount, roundTrip, udpSocket } from '../helpers/udp.js';
import { until, within } from '../helpers/timeout.js';

test('UDP: datagrams received, echoed (and their bytes), dropped by rate and denied, sources: exact on /metrics', async (t) => {
  const server = await startUdpEchoServer({ deny: ['127.0.0.2'], udpRate: 1, metrics: { port: 0 } });
  t.after(() => server.close());
  const url = server.metricsUrl as string;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const { port } = server.address;
  const allowed = await udpSocket(t);
  const denied = await udpSocket(t, '127.0.0.2');
  // One token a second: the first of three sent at once is echoed, the other two dropped (rate).
  const echoes = collectCount(allowed, 1, 2000);
  for (const size of [7, 8, 9]) allowed.send(Buffer.alloc(size, 1), port, '127.0.0.1');
  denied.send(Buffer.alloc(5), port, '127.0.0.1');
  assert.equal((await echoes)[0]?.length, 7);
  await until(() => server.stats.received === 4, 5000, 'four datagrams received');
  const m = await scrape(url);
  assert.equal(m.get('tcpecho_udp_datagrams_received_total'), 4);
  assert.equal(m.get('tcpecho_udp_datagrams_echoed_total'), 1);
  assert.equal(m.get('tcpecho_udp_echoed_bytes_total'), 7);
  assert.equal(m.get('tcpecho_udp_datagrams_dropped_total{reason="rate"}'), 2);
  assert.equal(m.get('tcpecho_udp_datagrams_dropped_total{reason="denied"}'), 1);
  assert.equal(m.get('tcpecho_udp_datagrams_dropped_total{reason="reflection-port"}'), 0);
  assert.equal(m.get('tcpecho_udp_datagrams_dropped_total{reason="send-queue"}'), 0);
  assert.equal(m.get('tcpecho_udp_datagrams_dropped_total{reason="delay-queue"}'), 0);
  assert.equal(m.get('tcpecho_faults_applied_total{fault="delay"}'), 0);
  assert.equal(m.get('tcpecho_udp_sources'), 2);
  assert.equal(m.get('tcpecho_udp_sources_evicted_total'), 0);
  assert.equal(m.has('tcpecho_connections_total'), false);
  assert.equal((await httpGet(`${url}/readyz`)).status, 200);
  await server.close();
  assert.equal(server.closing, true);
  await refusedAt(url);
});

test('UDP: datagrams a delay fault held count as faults applied (delay)', async (t) => {
  const server = await startUdpEchoServer({ metrics: { port: 0 }, udpRate: 0, faults: { delayMs: 5 } });
  t.after(() => server.close());
  const socket = await udpSocket(t);
  for (let i = 0; i < 3; i++) assert.equal((await roundTrip(socket, server.address.port, Buffer.from(`d${i}`), 2000))?.toString(), `d${i}`);
  await server.clearFaults();
  assert.equal((await roundTrip(socket, server.address.port, Buffer.from('now'), 2000))?.toString(), 'now');
  const m = await scrape(server.metricsUrl as string);
  assert.equal(m.get('tcpecho_faults_applied_total{fault="delay"}'), 3);
  assert.equal(m.get('tcpecho_udp_datagrams_echoed_total'), 4);
});

test('UDP: a bad metrics option is TCPECHO_ERR_USAGE; a port in use is TCPECHO_ERR_ADDRESS_IN_USE and leaves nothing bound', async (t) => {
  await assert.rejects(startUdpEchoServer({ metrics: { port: -1 } }), { code: 'TCPECHO_ERR_USAGE', message: /`metrics\.port`/ });
  const first = await startUdpEchoServer({ metrics: { port: 0 } });
  t.after(() => first.close());
  const metricsPort = Number(new URL(first.metricsUrl as string).port);
  const before = process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
  await assert.rejects(startUdpEchoServer({ metrics: { port: metricsPort } }), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
  await until(() => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length <= before, 5000, () => `the UDP socket closed (${process.getActiveResourcesInfo().join(', ')})`);
});

test('tcpecho server --udp --metrics-port 0: the metrics line before the ready line; /metrics counts the echoes', async (t) => {
  const server = await spawnServer(t, ['--udp', '--metrics-port', '0']);
  const at = server.lines.findIndex((line) => line.startsWith('tcpecho metrics on '));
  const ready = server.lines.findIndex((line) => line.startsWith('tcpecho listening on '));
  assert.ok(at >= 0 && at < ready, server.lines.join('\n'));
  const url = /^tcpecho metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics$/.exec(server.lines[at] as string)?.[1] as string;
  const socket = await udpSocket(t);
  for (let i = 0; i < 3; i++) assert.equal((await roundTrip(socket, server.port, Buffer.from('ping'), 2000))?.toString(), 'ping');
  const m = await scrape(url);
  assert.equal(m.get('tcpecho_udp_datagrams_echoed_total'), 3);
  assert.equal(m.get('tcpecho_udp_echoed_bytes_total'), 12);
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  assert.equal((await within(exited, 10_000, 'server exit'))[0], 0);
});
