// ping() from the library: callbacks, the signal, a large probe, a host name resolved once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ping, type ProbeResult } from '../../src/index.js';
import { startTestServer } from '../helpers/server.js';
import { within } from '../helpers/timeout.js';

test('onStart gets the address, onProbe every probe; aborting stops it with interrupted: true', async (t) => {
  const server = await startTestServer(t);
  const stop = new AbortController();
  const seen: ProbeResult[] = [];
  let started = '';
  const result = await within(
    ping({
      port: server.address.port,
      intervalMs: 10,
      signal: stop.signal,
      onStart: (address) => (started = address),
      onProbe: (probe) => {
        seen.push(probe);
        if (seen.length === 2) stop.abort();
      },
    }),
    10_000,
    'ping until aborted',
  );
  assert.equal(started, `127.0.0.1:${server.address.port}`);
  assert.equal(result.interrupted, true);
  assert.equal(result.sent, 2);
  assert.deepEqual(result.probes, seen);
});

test('a run that reaches its count is not interrupted, even when its signal aborts later', async (t) => {
  const server = await startTestServer(t);
  const stop = new AbortController();
  const result = await within(ping({ port: server.address.port, count: 2, intervalMs: 10, signal: stop.signal }), 10_000, 'ping -c 2');
  stop.abort();
  assert.equal(result.interrupted, false);
  assert.equal(result.echoed, 2);
});

test('a 4 MiB probe, kept: every byte checked, twice over one connection', async (t) => {
  const server = await startTestServer(t);
  let connections = 0;
  server.on('connection', () => connections++);
  const result = await within(ping({ port: server.address.port, count: 2, intervalMs: 10, size: 4 * 2 ** 20, keep: true }), 20_000, 'ping 4 MiB');
  assert.equal(result.echoed, 2, JSON.stringify(result.probes));
  assert.equal(connections, 1);
});

test('a host name is resolved once and its address probed', async (t) => {
  const server = await startTestServer(t);
  const result = await within(ping({ host: 'localhost', family: 4, port: server.address.port, count: 1 }), 10_000, 'ping localhost');
  assert.equal(result.target, `localhost:${server.address.port}`);
  assert.equal(result.address, `127.0.0.1:${server.address.port}`);
  assert.equal(result.echoed, 1);
});
