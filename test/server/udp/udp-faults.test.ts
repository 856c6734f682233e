// Faults on the UDP echo: a delay (with jitter) on a share of datagrams, set at start-up or while
// the server runs, bounded when flooded; and the same from the built CLI with the control API.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test, type TestContext } from 'node:test';
import { ping, startUdpEchoServer, type UdpEchoServer, type UdpEchoServerOptions } from '../../../src/index.js';
import { UDP_HOLD_LIMIT } from '../../../src/server/udp/udp-echo-server.js';
import { runCli, spawnServer } from '../../helpers/cli.js';
import { collectCount, roundTrip, udpSocket } from '../../helpers/udp.js';
import { until, within } from '../../helpers/timeout.js';

async function server(t: TestContext, options: UdpEchoServerOptions = {}): Promise<UdpEchoServer> {
  const s = await startUdpEchoServer(options);
  t.after(() => s.destroy());
  return s;
}

/** Milliseconds from sending `payload` to its echo; fails the test when none comes within `ms`. */
async function echoTime(socket: Awaited<ReturnType<typeof udpSocket>>, port: number, payload: Buffer, ms = 5000): Promise<number> {
  const started = performance.now();
  const echo = await roundTrip(socket, port, payload, ms);
  assert.ok(echo?.equals(payload), 'the echo came back exact');
  return performance.now() - started;
}

test('faults: { delayMs } holds every echo at least that long; setFaults changes it for the next datagram, clearFaults heals it', async (t) => {
  const s = await server(t, { faults: { delayMs: 150 } });
  const socket = await udpSocket(t);
  assert.ok((await echoTime(socket, s.address.port, Buffer.from('one'))) >= 150);
  await s.setFaults({ delayMs: 300, jitterMs: 50 });
  assert.deepEqual(s.getFaults(), { delayMs: 300, jitterMs: 50 });
  assert.ok((await echoTime(socket, s.address.port, Buffer.from('two'))) >= 250);
  await s.clearFaults();
  assert.deepEqual(s.getFaults(), {});
  const healed = await echoTime(socket, s.address.port, Buffer.from('three'));
  assert.ok(healed < 250, `healed: ${healed} ms`);
});

test('a fault UDP does not have, or a bad value, is a usage error; nothing changes', async (t) => {
  await assert.rejects(startUdpEchoServer({ faults: { closeAfter: 3 } }), { code: 'TCPECHO_ERR_USAGE', message: /`faults\.closeAfter` does not apply to UDP/ });
  const s = await server(t, { faults: { delayMs: 10 } });
  await assert.rejects(s.setFaults({ chunk: { bytes: 1 } }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(s.setFaults({ delayMs: -1 }), { code: 'TCPECHO_ERR_USAGE' });
  assert.deepEqual(s.getFaults(), { delayMs: 10 });
});

test('faultRate 0.5 over 200 datagrams: between 60 and 140 are delayed, and every one is echoed', async (t) => {
  const s = await server(t, { faults: { delayMs: 1500, faultRate: 0.5 } });
  const socket = await udpSocket(t);
  for (let i = 0; i < 200; i++) socket.send(Buffer.from(`datagram ${i}`), s.address.port, '127.0.0.1');
  // The prompt ones come within a second; the delayed ones not before 1.5 s.
  const prompt = await collectCount(socket, 200, 1000);
  assert.ok(prompt.length >= 60 && prompt.length <= 140, `${prompt.length} echoed at once`);
  const later = await collectCount(socket, 200 - prompt.length, 10_000);
  assert.equal(prompt.length + later.length, 200);
  assert.equal(new Set([...prompt, ...later].map(String)).size, 200, 'each datagram once');
});

test('a flood into a long delay holds at most 1 MiB; the rest is dropped and counted as delay-queue', async (t) => {
  const s = await server(t, { faults: { delayMs: 60_000 } });
  const socket = await udpSocket(t);
  const payload = Buffer.alloc(1200, 7);
  for (let i = 0; i < 2000; i++) socket.send(payload, s.address.port, '127.0.0.1');
  await until(() => s.stats.received === 2000, 10_000, () => `received ${s.stats.received} of 2000`);
  const held = Math.floor(UDP_HOLD_LIMIT / payload.length);
  assert.equal(s.stats.dropped['delay-queue'], 2000 - held);
  assert.equal(s.stats.echoed, 0);
});

test('tcpecho server --udp --delay 100 --control-port 0: ping sees the delay; PUT /faults changes it; a TCP-only fault is a usage error', async (t) => {
  const bad = await runCli(['server', '--udp', '--port', '0', '--close-after', '5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /`--close-after` does not apply with `--udp`/);

  const cli = await spawnServer(t, ['--udp', '--delay', '100', '--control-port', '0']);
  const controlAt = cli.lines.findIndex((line) => line.startsWith('tcpecho control on '));
  const readyAt = cli.lines.findIndex((line) => line.startsWith('tcpecho listening on '));
  assert.ok(controlAt !== -1 && controlAt < readyAt, cli.lines.join('\n'));
  const url = `${/(http:\/\/127\.0\.0\.1:\d+)$/.exec(cli.lines[controlAt] ?? '')?.[1] ?? ''}/faults`;
  const delayed = await within(ping({ udp: true, port: cli.port, count: 2, intervalMs: 10 }), 10_000, 'ping the delayed server');
  assert.equal(delayed.echoed, 2);
  assert.ok((delayed.echo?.min ?? 0) >= 100, `echo min ${delayed.echo?.min} ms`);

  const put = await fetch(url, { method: 'PUT', body: JSON.stringify({ delayMs: 400 }) });
  assert.equal(put.status, 200);
  assert.deepEqual(await put.json(), { delayMs: 400 });
  const refused = await fetch(url, { method: 'PUT', body: JSON.stringify({ resetAfter: 1 }) });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { error: string }).error, /does not apply to UDP/);
  const slower = await within(ping({ udp: true, port: cli.port, count: 1 }), 10_000, 'ping after PUT');
  assert.ok((slower.echo?.min ?? 0) >= 400, `echo ${slower.echo?.min} ms`);
  assert.equal((await fetch(url, { method: 'DELETE' })).status, 200);
  assert.deepEqual(await (await fetch(url)).json(), {});
});
