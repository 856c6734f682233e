// The figures of what acts on connections beyond the echo: TLS handshakes (by version) and their
// failures (by code), and the faults applied (by fault), counted exactly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import type { ConnectionClose, EchoServerOptions } from '../../src/index.js';
import { readAll } from '../helpers/echo.js';
import { samplesOf, scrape, sorted } from '../helpers/metrics.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

test('TLS: each handshake counted by version, a plain-text client as a failure by its code', async (t) => {
  const server = await startTestServer(t, { tls: true, metrics: { port: 0 } });
  const closed: ConnectionClose[] = [];
  server.on('disconnect', (info) => closed.push(info));
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3', 'TLSv1.3'] as const) {
    const client = tls.connect({ host: '127.0.0.1', port: server.address.port, rejectUnauthorized: false, maxVersion });
    client.on('error', () => {});
    await within(once(client, 'secureConnect'), 10_000, `${maxVersion} handshake`);
    const echoed = readAll(client);
    client.end('hi');
    assert.equal((await within(echoed, 10_000, 'the TLS echo')).toString(), 'hi');
    client.destroy();
  }
  const plain = net.connect({ host: '127.0.0.1', port: server.address.port });
  plain.on('error', () => {});
  plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => closed.length === 4, 10_000, 'four close records');
  plain.destroy();
  const code = closed.find((c) => c.reason === 'tls-error')?.errorCode;
  assert.equal(typeof code, 'string');
  const m = await scrape(server.metricsUrl as string);
  assert.equal(m.get('tcpecho_tls_handshakes_total{version="TLSv1.2"}'), 1);
  assert.equal(m.get('tcpecho_tls_handshakes_total{version="TLSv1.3"}'), 2);
  assert.equal(m.get(`tcpecho_tls_handshake_failures_total{code="${String(code)}"}`), 1);
  assert.equal(m.get('tcpecho_connections_closed_total{reason="tls-error"}'), 1);
  assert.deepEqual(server.metrics().tlsHandshakes, { 'TLSv1.2': 1, 'TLSv1.3': 2 });
});

/** Sends `text`, half-closes, resolves with what came back before the server's FIN or reset (a reset on connect too). */
async function faultyEcho(port: number, text: string): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // Not once(): it would reject on the reset's 'error'.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.end(text);
  await within(closed, 10_000, 'the faulty echo closed');
  return Buffer.concat(chunks).toString();
}

for (const options of [{ mode: 'event' }, { mode: 'fork', spare: 1 }, { mode: 'cluster', workers: 2 }] as EchoServerOptions[]) {
  test(`${String(options.mode)}: faults applied are counted by fault; refuseRate resets count as refuse and as rejects (refused)`, async (t) => {
    const server = await startTestServer(t, { ...options, faults: { closeAfter: 3, delayMs: 1 }, metrics: { port: 0 } });
    const { port } = server.address;
    let closes = 0;
    let rejects = 0;
    server.on('disconnect', () => closes++);
    server.on('reject', () => rejects++);
    assert.equal(await faultyEcho(port, 'hello'), 'hel');
    assert.equal(await faultyEcho(port, 'world'), 'wor');
    await until(() => closes === 2, 10_000, 'two close records');
    await server.setFaults({ refuseRate: 1 });
    await faultyEcho(port, 'refused');
    await until(() => rejects === 1, 10_000, 'the refused reject');
    await server.clearFaults();
    assert.equal(await faultyEcho(port, 'clean'), 'clean');
    await until(() => closes === 3 && server.connections === 0, 10_000, 'the clean close');
    if (options.mode === 'fork') await until(() => server.childPids.length === 1, 10_000, 'only the spare left');
    const m = await scrape(server.metricsUrl as string);
    assert.equal(m.get('tcpecho_faults_applied_total{fault="close"}'), 2);
    assert.equal(m.get('tcpecho_faults_applied_total{fault="delay"}'), 2);
    assert.equal(m.get('tcpecho_faults_applied_total{fault="refuse"}'), 1);
    assert.equal(m.get('tcpecho_connections_rejected_total{reason="refused"}'), 1);
    assert.equal(m.get('tcpecho_connections_total'), 3);
    assert.deepEqual(sorted(m), samplesOf(server.metrics()));
  });
}
