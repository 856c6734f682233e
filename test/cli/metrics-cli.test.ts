// `tcpecho server --metrics-port` and `--log-format json`, end to end through the built CLI.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { runCli, spawnServer } from '../helpers/cli.js';
import { connectTo, echoOf, readExactly } from '../helpers/echo.js';
import { httpGet, parseMetrics } from '../helpers/metrics.js';
import { until, within } from '../helpers/timeout.js';

const JSON_READY = /"event":"listening"/;

test('--metrics-port 0: the metrics line, with the real port, comes before the ready line; /metrics counts', async (t) => {
  const server = await spawnServer(t, ['--metrics-port', '0', '--mode', 'cluster', '--workers', '2']);
  const at = server.lines.findIndex((line) => line.startsWith('tcpecho metrics on '));
  const ready = server.lines.findIndex((line) => line.startsWith('tcpecho listening on '));
  assert.ok(at >= 0 && at < ready, server.lines.join('\n'));
  const url = /^tcpecho metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics$/.exec(server.lines[at] as string)?.[1];
  assert.ok(url !== undefined && !url.endsWith(':0'), server.lines[at]);
  for (let i = 0; i < 2; i++) await echoOf(server.port, Buffer.alloc(100, i));
  await server.waitForLine(/close #2 /);
  const m = parseMetrics((await httpGet(`${url}/metrics`)).body);
  assert.equal(m.get('tcpecho_connections_total'), 2);
  assert.equal(m.get('tcpecho_connections_closed_total{reason="eof"}'), 2);
  assert.equal(m.get('tcpecho_echoed_bytes_total'), 200);
  assert.equal(m.get('tcpecho_processes{role="worker"}'), 2);
});

test('SIGTERM: /readyz turns 503 while the drain holds a connection; /healthz stays 200', async (t) => {
  const server = await spawnServer(t, ['--metrics-port', '0', '--drain-timeout', '60']);
  const url = /tcpecho metrics on (\S+)\/metrics/.exec(await server.waitForLine(/^tcpecho metrics on /))?.[1] as string;
  assert.equal((await httpGet(`${url}/readyz`)).status, 200);
  const client = await connectTo(server.port);
  t.after(() => client.destroy());
  client.write('held');
  await readExactly(client, 4);
  server.child.kill('SIGTERM');
  await server.waitForLine(/^received SIGTERM: .*draining 1 connection/);
  const readyz = await httpGet(`${url}/readyz`);
  assert.equal(readyz.status, 503);
  assert.equal((await httpGet(`${url}/healthz`)).status, 200);
  // The held connection still echoes during the drain; once it leaves, the server stops.
  client.write('more');
  assert.equal((await readExactly(client, 4)).toString(), 'more');
  const exited = once(server.child, 'exit');
  client.end();
  const [code] = await within(exited, 10_000, 'server exit after the drain');
  assert.equal(code, 0);
});

for (const mode of ['event', 'fork', 'cluster']) {
  test(`--log-format json, ${mode}: every stderr line of a run is one JSON object with its fields`, async (t) => {
    const extra = mode === 'cluster' ? ['--workers', '2'] : [];
    const server = await spawnServer(t, ['--log-format', 'json', '--mode', mode, ...extra, '--deny', '127.0.0.2'], { ready: JSON_READY });
    await echoOf(server.port, Buffer.alloc(10, 1));
    const denied = net.connect({ port: server.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    denied.on('error', () => {});
    await within(once(denied, 'close'), 5000, 'denied client closed');
    await server.waitForLine(/"event":"close"/);
    await server.waitForLine(/"event":"reject"/);
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    const [code] = await within(exited, 15_000, 'server exit');
    assert.equal(code, 0);
    await until(() => server.lines.some((line) => line.includes('"stopped"')), 2000, 'the stopped line');
    const objects = server.lines.filter((line) => line !== '').map((line) => {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
      return JSON.parse(line) as Record<string, unknown>;
    });
    for (const o of objects) {
      assert.equal(typeof o.event, 'string');
      assert.ok(!Number.isNaN(Date.parse(o.time as string)), `time of ${JSON.stringify(o)}`);
    }
    const byEvent = (event: string): Record<string, unknown> => {
      const found = objects.find((o) => o.event === event);
      assert.ok(found, `no ${event} line in ${server.lines.join('\n')}`);
      return found;
    };
    const ready = byEvent('listening');
    assert.equal(ready.port, server.port);
    assert.equal(ready.host, '127.0.0.1');
    assert.equal(ready.mode, mode);
    assert.match(String(ready.message), /^tcpecho listening on 127\.0\.0\.1:\d+ \(mode /);
    const open = byEvent('open');
    assert.equal(open.id, 1);
    assert.equal(open.remoteAddress, '127.0.0.1');
    assert.equal(typeof open.remotePort, 'number');
    if (mode !== 'event') assert.equal(typeof open.pid, 'number');
    const close = byEvent('close');
    assert.equal(close.id, 1);
    assert.equal(close.remotePort, open.remotePort);
    assert.equal(close.bytesRead, 10);
    assert.equal(close.bytesWritten, 10);
    assert.equal(close.reason, 'eof');
    assert.equal(typeof close.durationMs, 'number');
    const reject = byEvent('reject');
    assert.equal(reject.remoteAddress, '127.0.0.2');
    assert.equal(reject.reason, 'denied');
    assert.equal(reject.rejected, 1);
    assert.equal(byEvent('drain').signal, 'SIGTERM');
    byEvent('stopped');
  });
}

test('--log-format json with TLS: the close object carries the TLS details; the fingerprint line is an object', async (t) => {
  const server = await spawnServer(t, ['--log-format', 'json', '--tls'], { ready: JSON_READY });
  const fingerprint = server.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((o) => o.event === 'tls');
  assert.match(String(fingerprint?.fingerprint), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const tls = await import('node:tls');
  const client = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
  client.on('error', () => {});
  await within(once(client, 'secureConnect'), 10_000, 'TLS connect');
  client.resume();
  client.end('hi');
  await within(once(client, 'close'), 10_000, 'TLS close');
  const close = JSON.parse(await server.waitForLine(/"event":"close"/)) as { tls?: { protocol?: string; cipher?: string } };
  assert.match(String(close.tls?.protocol), /^TLSv1\.[23]$/);
  assert.equal(typeof close.tls?.cipher, 'string');
});

test('a bad --log-format is a usage error: exit 2, one line', async () => {
  const result = await runCli(['server', '--log-format', 'xml']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^tcpecho: Expected `--log-format` to be one of `text`, `json`, got `xml`/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});

test('--log-format json: a usage error is one JSON object with its code, exit 2', async () => {
  const result = await runCli(['server', '--log-format', 'json', '--port', '70000']);
  assert.equal(result.code, 2);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  const error = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(error.event, 'error');
  assert.equal(error.code, 'TCPECHO_ERR_USAGE');
  assert.match(String(error.message), /--port/);
});

test('--metrics-port on a port in use: exit 1, one line, no server left', async (t) => {
  const holder = net.createServer();
  holder.listen(0, '127.0.0.1');
  await within(once(holder, 'listening'), 5000, 'holder listening');
  t.after(() => holder.close());
  const port = (holder.address() as net.AddressInfo).port;
  const result = await runCli(['server', '--port', '0', '--host', '127.0.0.1', '--metrics-port', String(port)]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^tcpecho: .*127\.0\.0\.1:\d+/);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
});
