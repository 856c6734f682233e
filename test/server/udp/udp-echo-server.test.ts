// The UDP echo server through the library, with real datagrams on loopback.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { test, type TestContext } from 'node:test';
import { startEchoServer, startUdpEchoServer, type UdpEchoServer, type UdpEchoServerOptions } from '../../../src/index.js';
import { collectCount, collectFor, roundTrip, udpSocket, closeQuietly } from '../../helpers/udp.js';
import { until, within } from '../../helpers/timeout.js';

async function server(t: TestContext, options: UdpEchoServerOptions = {}): Promise<UdpEchoServer> {
  const s = await startUdpEchoServer(options);
  t.after(() => s.destroy());
  return s;
}

const SIZES = [0, 1, 1200, 8192, 65_507];

test('every size from 0 to 65,507 bytes comes back exact over IPv4, an empty datagram as an empty one', async (t) => {
  const s = await server(t);
  const socket = await udpSocket(t);
  for (const size of SIZES) {
    const payload = randomBytes(size);
    const echo = await roundTrip(socket, s.address.port, payload);
    assert.ok(echo !== undefined, `no echo of ${size} bytes`);
    assert.ok(echo.equals(payload), `${size} bytes came back different`);
  }
  assert.equal(s.stats.echoed, SIZES.length);
  assert.equal(s.stats.echoedBytes, SIZES.reduce((a, b) => a + b, 0));
});

test('every size up to 65,527 bytes comes back exact over IPv6', async (t) => {
  const s = await server(t, { host: '::1' });
  assert.equal(s.url, `[::1]:${s.address.port}`);
  const socket = await udpSocket(t, '::1');
  for (const size of [...SIZES, 65_527]) {
    const payload = randomBytes(size);
    const echo = await roundTrip(socket, s.address.port, payload, 1000, '::1');
    assert.ok(echo?.equals(payload), `${size} bytes over IPv6`);
  }
});

test("a dual-stack server ('*') echoes IPv4 and IPv6 sources, and names the IPv4 one without ::ffff:", async (t) => {
  const s = await server(t, { host: '*' });
  const seen: string[] = [];
  s.on('source', (info) => seen.push(info.address));
  const v4 = await udpSocket(t);
  const v6 = await udpSocket(t, '::1');
  assert.equal((await roundTrip(v4, s.address.port, Buffer.from('four')))?.toString(), 'four');
  assert.equal((await roundTrip(v6, s.address.port, Buffer.from('six'), 1000, '::1'))?.toString(), 'six');
  assert.deepEqual(seen.sort(), ['127.0.0.1', '::1']);
});

test('many sources at once each get their own echoes and nobody else\'s', async (t) => {
  const s = await server(t);
  const sockets = await Promise.all(Array.from({ length: 40 }, () => udpSocket(t)));
  const results = await Promise.all(
    sockets.map(async (socket, i) => {
      const got = collectCount(socket, 10, 5000);
      for (let n = 0; n < 10; n++) socket.send(Buffer.from(`source ${i} datagram ${n}`), s.address.port, '127.0.0.1');
      return got;
    }),
  );
  results.forEach((got, i) => {
    assert.deepEqual(got.map(String).sort(), Array.from({ length: 10 }, (_, n) => `source ${i} datagram ${n}`).sort());
  });
});

test('a datagram from source port 19 (chargen) gets no echo and is counted; with udpAllowLowPorts it is echoed', async (t) => {
  const s = await server(t);
  const drops: string[] = [];
  s.on('drop', (d) => drops.push(`${d.port} ${d.reason}`));
  const chargen = await udpSocket(t, '127.0.0.1', 19);
  assert.equal(await roundTrip(chargen, s.address.port, Buffer.from('loop?'), 300), undefined);
  assert.equal(s.stats.dropped['reflection-port'], 1);
  assert.deepEqual(drops, ['19 reflection-port']);
  closeQuietly(chargen);

  const lab = await server(t, { udpAllowLowPorts: true });
  const again = await udpSocket(t, '127.0.0.1', 19);
  assert.equal((await roundTrip(again, lab.address.port, Buffer.from('lab')))?.toString(), 'lab');
  assert.equal(lab.stats.dropped['reflection-port'], 0);
});

test('drops are reported at most once a second per source, and every one is counted', async (t) => {
  const s = await server(t);
  let reports = 0;
  s.on('drop', () => reports++);
  const echo = await udpSocket(t, '127.0.0.1', 7);
  for (let i = 0; i < 200; i++) echo.send(Buffer.from('x'), s.address.port, '127.0.0.1');
  await until(() => s.stats.dropped['reflection-port'] === 200, 3000, () => `200 drops counted (have ${s.stats.dropped['reflection-port']})`);
  assert.equal(reports, 1);
});

test('the rate limit cuts a flood from one address to its bucket while another address is still served', async (t) => {
  const rate = 100;
  const s = await server(t, { udpRate: rate });
  const flood = await udpSocket(t);
  const other = await udpSocket(t, '127.0.0.2');
  const got = collectFor(flood, 500);
  const started = performance.now();
  for (let i = 0; i < 2000; i++) flood.send(Buffer.from(`flood ${i}`), s.address.port, '127.0.0.1');
  const otherEcho = await roundTrip(other, s.address.port, Buffer.from('still served'));
  await until(() => s.stats.received === 2001, 5000, () => `2,001 datagrams received (have ${s.stats.received})`);
  const elapsedS = (performance.now() - started) / 1000;
  const echoes = (await got).length;
  assert.equal(otherEcho?.toString(), 'still served');
  // Counted where they are decided: one second of burst, plus what refilled while the flood lasted.
  const echoed = s.stats.echoed - 1;
  assert.ok(echoed >= rate && echoed <= rate + Math.ceil(rate * elapsedS) + 1, `${echoed} echoes of the flood in ${elapsedS.toFixed(2)} s`);
  assert.equal(s.stats.dropped.rate + echoed, 2000);
  // The client cannot have more (a loaded machine may deliver some after the collection window).
  assert.ok(echoes <= echoed, `${echoes} received of ${echoed}`);
});

test('udpRate 0 turns the limit off', async (t) => {
  const s = await server(t, { udpRate: 0 });
  const socket = await udpSocket(t);
  let echoes = 0;
  socket.on('message', () => echoes++);
  for (let i = 0; i < 300; i++) socket.send(Buffer.from(`n${i}`), s.address.port, '127.0.0.1');
  await until(() => echoes === 300, 5000, () => `300 echoes (have ${echoes})`);
  assert.equal(s.stats.dropped.rate, 0);
});

test('5,000 source addresses keep the source table within udpMaxSources, the oldest evicted first', async (t) => {
  const max = 200;
  const s = await server(t, { udpMaxSources: max });
  let peak = 0;
  let full = 0;
  s.on('source', () => (peak = Math.max(peak, s.stats.sources)));
  s.on('evict', (e) => e.reason === 'full' && full++);
  const total = 5000;
  for (let i = 0; i < total; i += 250) {
    // 250 at a time: each from an address of its own in 127.1.0.0/16, all on lo.
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, total - i) }, async (_, j) => {
        const n = i + j;
        const socket = dgram.createSocket('udp4');
        socket.on('error', () => {});
        t.after(() => closeQuietly(socket));
        socket.bind(0, `127.1.${(n >> 8) + 1}.${n & 0xff}`);
        await once(socket, 'listening');
        socket.send(Buffer.from('hi'), s.address.port, '127.0.0.1');
        return socket;
      }),
    );
    await until(() => s.stats.received >= i + batch.length, 5000, `${i + batch.length} datagrams received`);
    batch.forEach(closeQuietly);
  }
  assert.ok(s.stats.sources <= max, `${s.stats.sources} sources in the table`);
  assert.ok(peak <= max, `peak ${peak}`);
  assert.equal(full, total - max);
  assert.equal(s.stats.evicted, total - max);
  assert.equal(s.stats.echoed, total);
});

test('a source silent for idleTimeoutMs is forgotten, with its counts', async (t) => {
  const s = await server(t, { idleTimeoutMs: 200 });
  const socket = await udpSocket(t);
  await roundTrip(socket, s.address.port, Buffer.from('12345'));
  await roundTrip(socket, s.address.port, Buffer.from('678'));
  const [evicted] = await within(once(s, 'evict'), 3000, 'the idle eviction');
  assert.deepEqual({ ...evicted, port: 0 }, { address: '127.0.0.1', port: 0, reason: 'idle', datagrams: 2, bytes: 8, dropped: 0 });
  assert.equal(s.stats.sources, 0);
});

test('deny and allow drop datagrams by source address, counted as denied', async (t) => {
  const s = await server(t, { allow: ['127.0.0.0/8'], deny: ['127.0.0.2'] });
  const ok = await udpSocket(t);
  const denied = await udpSocket(t, '127.0.0.2');
  assert.equal((await roundTrip(ok, s.address.port, Buffer.from('ok')))?.toString(), 'ok');
  assert.equal(await roundTrip(denied, s.address.port, Buffer.from('no'), 300), undefined);
  assert.equal(s.stats.dropped.denied, 1);
});

test('close() and destroy() are safe twice and emit close once; the port is free after', async (t) => {
  const s = await startUdpEchoServer();
  const { port } = s.address;
  let closes = 0;
  s.on('close', () => closes++);
  await Promise.all([s.close(), s.destroy()]);
  await s.close();
  assert.equal(closes, 1);
  const again = await server(t, { port });
  assert.equal(again.address.port, port);
});

test('a port in use is TCPECHO_ERR_ADDRESS_IN_USE', async (t) => {
  const s = await server(t);
  await assert.rejects(startUdpEchoServer({ port: s.address.port }), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
});

test('TCP-only options, and startEchoServer({ udp: true }), are usage errors', async () => {
  await assert.rejects(startUdpEchoServer({ maxConnections: 5 } as UdpEchoServerOptions), { code: 'TCPECHO_ERR_USAGE', message: /maxConnections/ });
  await assert.rejects(startUdpEchoServer({ mode: 'fork' } as UdpEchoServerOptions), { code: 'TCPECHO_ERR_USAGE', message: /fork/ });
  await assert.rejects(startEchoServer({ udp: true } as never), { code: 'TCPECHO_ERR_USAGE', message: /startUdpEchoServer/ });
  await assert.rejects(startEchoServer({ udpRate: 5 } as never), { code: 'TCPECHO_ERR_USAGE', message: /udpRate/ });
});

test('500 source ports of one address are one source: changing ports does not escape the rate limit', async (t) => {
  const rate = 50;
  const s = await server(t, { udpRate: rate });
  const sockets = await Promise.all(Array.from({ length: 500 }, () => udpSocket(t)));
  const got = sockets.map((socket) => collectFor(socket, 400));
  for (const socket of sockets) socket.send(Buffer.from('p'), s.address.port, '127.0.0.1');
  await until(() => s.stats.received === 500, 5000, () => `500 datagrams received (have ${s.stats.received})`);
  const echoes = (await Promise.all(got)).reduce((sum, one) => sum + one.length, 0);
  assert.equal(s.stats.sources, 1);
  const echoed = s.stats.echoed;
  assert.ok(echoed >= rate && echoed <= rate + 25, `${echoed} echoes`);
  assert.equal(s.stats.dropped.rate, 500 - echoed);
  assert.ok(echoes <= echoed);
});
