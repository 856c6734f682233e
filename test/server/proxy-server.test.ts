// `proxyProtocol` end to end, in every mode: the header is read by the process that echoes, never
// echoed, and every byte after it is; the close record carries the header's client address and the
// balancer's; a bad, missing or late header closes the connection unechoed (`proxy-error`);
// `allow`/`deny` match the header's address; `proxyFrom` refuses other peers on accept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { startEchoServer, type ConnectionClose, type ConnectionOpen, type ConnectionReject, type EchoServer, type EchoServerOptions } from '../../src/index.js';
import { v1Header, v2Header } from '../../src/server/proxy-protocol.js';
import { closedByPeer, connectTo, endWithEcho, readAll, readExactly } from '../helpers/echo.js';
import { runCli, spawnServer } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const MODES: Array<[string, EchoServerOptions]> = [
  ['event', { mode: 'event' }],
  ['fork', { mode: 'fork', spare: 1 }],
  ['cluster rr', { mode: 'cluster', workers: 2, balance: 'rr' }],
  ['cluster shared', { mode: 'cluster', workers: 2, balance: 'shared' }],
];

interface Watched {
  server: EchoServer;
  closed: ConnectionClose[];
  rejected: ConnectionReject[];
}

async function watched(t: Parameters<typeof startTestServer>[0], options: EchoServerOptions): Promise<Watched> {
  const server = await startTestServer(t, { proxyProtocol: true, ...options });
  const closed: ConnectionClose[] = [];
  const rejected: ConnectionReject[] = [];
  server.on('disconnect', (info) => closed.push(info));
  server.on('reject', (info) => rejected.push(info));
  return { server, closed, rejected };
}

/** Writes `parts` one by one, each after the previous has left (so that they arrive as separate reads, mostly). */
async function writeApart(socket: net.Socket, parts: Buffer[]): Promise<void> {
  for (const part of parts) {
    await new Promise<void>((resolve, reject) => socket.write(part, (err) => (err ? reject(err) : resolve())));
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/** What the server sends until it closes; the client half-closes after `parts`. */
async function exchange(port: number, parts: Buffer[]): Promise<Buffer> {
  const socket = await connectTo(port);
  try {
    const received = readAll(socket);
    await writeApart(socket, parts);
    socket.end();
    return await within(received, 10_000, 'the server to finish');
  } finally {
    socket.destroy();
  }
}

/** Resolves once the server has closed the connection, whatever it sent (must be nothing). */
async function refusedExchange(port: number, parts: Buffer[]): Promise<Buffer> {
  const socket = await connectTo(port);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  const closed = closedByPeer(socket);
  await writeApart(socket, parts).catch(() => {});
  await within(closed, 10_000, 'the server to close the connection');
  socket.destroy();
  return Buffer.concat(chunks);
}

for (const [name, options] of MODES) {
  test(`${name}: v2 header split over reads, data in the header's last read and after: exactly the data is echoed, the record has the real addresses`, async (t) => {
    const { server, closed } = await watched(t, options);
    const port = server.address.port;
    const header = v2Header({ remoteAddress: '192.0.2.7', remotePort: 51234, localAddress: '127.0.0.1', localPort: port }, [[0x01, Buffer.from('h2')], [0x04, Buffer.alloc(7)], [0x02, Buffer.from('echo.example')]]);
    const data = randomBytes(20_000);
    const echoed = await exchange(port, [header.subarray(0, 5), header.subarray(5, 20), Buffer.concat([header.subarray(20), data.subarray(0, 100)]), data.subarray(100)]);
    assert.ok(echoed.equals(data), `echoed ${echoed.length} bytes, sent ${data.length} after the header`);
    await until(() => closed.length === 1, 10_000, 'the close record');
    const record = closed[0] as ConnectionClose;
    assert.equal(record.reason, 'eof');
    assert.equal(record.remoteAddress, '192.0.2.7');
    assert.equal(record.remotePort, 51234);
    assert.equal(record.proxyAddress, '127.0.0.1');
    assert.ok(typeof record.proxyPort === 'number' && record.proxyPort > 0);
    assert.equal(record.proxyAlpn, 'h2');
    assert.equal(record.proxyAuthority, 'echo.example');
    assert.equal(record.bytesRead, data.length);
    assert.equal(record.bytesWritten, data.length);
  });

  test(`${name}: v1 header alone, data later; v2 LOCAL served with the balancer's address; garbage closed unechoed as proxy-error`, async (t) => {
    const { server, closed } = await watched(t, options);
    const port = server.address.port;
    const v1 = await exchange(port, [v1Header('2001:db8::5', 4242, '::1', port), Buffer.from('hello\r\n')]);
    assert.equal(v1.toString(), 'hello\r\n');
    const local = await exchange(port, [v2Header('local'), Buffer.from('PING\r\n')]);
    assert.equal(local.toString(), 'PING\r\n');
    const garbage = await refusedExchange(port, [Buffer.from('hello, no header\r\n')]);
    assert.equal(garbage.length, 0, 'nothing of a connection without a header is echoed');
    await until(() => closed.length === 3, 10_000, 'three close records');
    const byReason = (reason: string): ConnectionClose[] => closed.filter((c) => c.reason === reason);
    const [v1Record] = closed.filter((c) => c.remoteAddress === '2001:db8::5');
    assert.equal(v1Record?.remotePort, 4242);
    assert.equal(v1Record?.reason, 'eof');
    const localRecord = byReason('eof').find((c) => c !== v1Record);
    assert.equal(localRecord?.remoteAddress, '127.0.0.1');
    assert.equal(localRecord?.proxyAddress, '127.0.0.1');
    assert.equal(byReason('proxy-error').length, 1);
    assert.equal(byReason('proxy-error')[0]?.errorCode, 'no header');
  });
}

for (const [name, options] of MODES) {
  test(`${name}: the connection event waits for the header and carries its client (remoteAddress) and the balancer (proxyAddress); a bad header's comes with its close`, async (t) => {
    const { server, closed } = await watched(t, options);
    const opened: ConnectionOpen[] = [];
    const order: string[] = [];
    server.on('connection', (info) => {
      opened.push({ ...info });
      order.push(`open ${info.id}`);
    });
    server.on('disconnect', (info) => order.push(`close ${info.id}`));
    const port = server.address.port;
    const socket = await connectTo(port);
    t.after(() => socket.destroy());
    const balancerPort = socket.localPort as number;
    socket.write(v1Header('203.0.113.50', 40_000, '127.0.0.1', port));
    socket.write('one');
    await within(readExactly(socket, 3), 10_000, 'the echo after the header');
    await until(() => opened.length === 1, 10_000, 'the connection event');
    const [event] = opened;
    assert.equal(event?.remoteAddress, '203.0.113.50');
    assert.equal(event?.remotePort, 40_000);
    assert.equal(event?.proxyAddress, '127.0.0.1');
    assert.equal(event?.proxyPort, balancerPort);
    if (name !== 'event') assert.equal(typeof event?.pid, 'number');
    assert.equal((await endWithEcho(socket, 'two', 10_000, 'the rest of the echo')).toString(), 'two');
    const bad = await refusedExchange(port, [Buffer.from('GET / HTTP/1.0\r\n\r\n')]);
    assert.equal(bad.length, 0);
    await until(() => closed.length === 2 && opened.length === 2, 10_000, 'two connections, two closes');
    const badOpen = opened[1] as ConnectionOpen;
    const badClose = closed.find((c) => c.reason === 'proxy-error') as ConnectionClose;
    assert.equal(badOpen.id, badClose.id);
    assert.equal(badOpen.remoteAddress, '127.0.0.1', 'no header: the balancer\'s own address');
    assert.equal(badOpen.proxyAddress, undefined);
    assert.deepEqual(order.filter((e) => e.endsWith(` ${badOpen.id}`)), [`open ${badOpen.id}`, `close ${badOpen.id}`]);
  });
}

test('truncated header (client half-closes inside it), v1 line past 107 bytes, v2 length past the bound: proxy-error, nothing echoed', async (t) => {
  const { server, closed } = await watched(t, { mode: 'event' });
  const port = server.address.port;
  const v2 = v2Header({ remoteAddress: '192.0.2.1', remotePort: 1, localAddress: '127.0.0.1', localPort: port });
  const truncated = await exchange(port, [v2.subarray(0, 20)]);
  assert.equal(truncated.length, 0);
  assert.equal((await refusedExchange(port, [Buffer.from(`PROXY TCP4 ${'9'.repeat(100)} and more`)])).length, 0);
  const long = Buffer.from(v2);
  long.writeUInt16BE(60_000, 14);
  assert.equal((await refusedExchange(port, [long, Buffer.alloc(2000)])).length, 0);
  await until(() => closed.length === 3, 10_000, 'three close records');
  assert.deepEqual(closed.map((c) => [c.reason, c.errorCode]), [
    ['proxy-error', 'truncated header'],
    ['proxy-error', 'v1 line too long'],
    ['proxy-error', 'v2 length past bound'],
  ]);
});

test('no header within handshakeTimeoutMs: closed as proxy-error (header timeout)', async (t) => {
  const { server, closed } = await watched(t, { mode: 'event', handshakeTimeoutMs: 300 });
  const socket = await connectTo(server.address.port);
  socket.on('error', () => {});
  socket.write('PROXY TCP4 1.2.3.4');
  const startedAt = performance.now();
  await within(closedByPeer(socket), 5000, 'the server to give up on the header');
  socket.destroy();
  assert.ok(performance.now() - startedAt >= 250);
  await until(() => closed.length === 1, 5000, 'the close record');
  assert.equal(closed[0]?.reason, 'proxy-error');
  assert.equal(closed[0]?.errorCode, 'header timeout');
});

for (const mode of ['event', 'fork'] as const) {
  test(`${mode}: allow/deny match the header's client address, not the balancer's; refused as denied, unechoed`, async (t) => {
    const { server, closed, rejected } = await watched(t, { mode, ...(mode === 'fork' ? { spare: 1 } : {}), allow: ['198.51.100.0/24'], deny: ['198.51.100.66'] });
    const port = server.address.port;
    const header = (address: string): Buffer => v1Header(address, 1000, '127.0.0.1', port);
    assert.equal((await exchange(port, [header('198.51.100.1'), Buffer.from('in')])).toString(), 'in');
    assert.equal((await refusedExchange(port, [header('198.51.100.66'), Buffer.from('denied')])).length, 0);
    assert.equal((await refusedExchange(port, [header('203.0.113.1'), Buffer.from('outside')])).length, 0);
    await until(() => closed.length === 3, 10_000, 'three close records');
    assert.deepEqual(closed.map((c) => [c.remoteAddress, c.reason]), [['198.51.100.1', 'eof'], ['198.51.100.66', 'denied'], ['203.0.113.1', 'denied']]);
    assert.equal(rejected.length, 0, '127.0.0.1 itself is not in allow, and was not refused for it');
  });
}

for (const [name, options] of [MODES[0], MODES[2], MODES[3]] as Array<[string, EchoServerOptions]>) {
  test(`${name}: proxyFrom refuses other peers on accept (proxy-untrusted), serves the listed ones`, async (t) => {
    const { server, rejected } = await watched(t, { ...options, proxyFrom: ['127.0.0.2/32'] });
    const port = server.address.port;
    const untrusted = await refusedExchange(port, [v2Header('local'), Buffer.from('x')]);
    assert.equal(untrusted.length, 0);
    await until(() => rejected.length === 1, 10_000, 'the reject');
    assert.equal(rejected[0]?.reason, 'proxy-untrusted');
    assert.equal(rejected[0]?.remoteAddress, '127.0.0.1');
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2', allowHalfOpen: true });
    t.after(() => socket.destroy());
    await within(once(socket, 'connect'), 5000, 'connect from 127.0.0.2');
    socket.write(v1Header('192.0.2.9', 9, '127.0.0.1', port));
    assert.equal((await endWithEcho(socket, 'trusted', 10_000, 'echo from a trusted balancer')).toString(), 'trusted');
  });
}

test('TLS behind the header: the bytes after it reach the handshake; the plain text is echoed', async (t) => {
  const { server, closed } = await watched(t, { mode: 'event', tls: true });
  const raw = await connectTo(server.address.port);
  t.after(() => raw.destroy());
  raw.write(v2Header({ remoteAddress: '192.0.2.44', remotePort: 4444, localAddress: '127.0.0.1', localPort: server.address.port }));
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
  secure.on('error', () => {});
  await within(once(secure, 'secureConnect'), 10_000, 'the TLS handshake behind the header');
  const data = randomBytes(5000);
  const echoed = await endWithEcho(secure, data, 10_000, 'TLS echo');
  assert.ok(echoed.equals(data));
  await until(() => closed.length === 1, 10_000, 'the close record');
  assert.equal(closed[0]?.remoteAddress, '192.0.2.44');
  assert.ok(closed[0]?.tls !== undefined);
});

test('proxyFrom without proxyProtocol is a usage error', async () => {
  await assert.rejects(startEchoServer({ proxyFrom: ['127.0.0.1'] }), { code: 'TCPECHO_ERR_USAGE' });
});

test('CLI: the open and close lines show the client and proxy=; a bad header is logged reason=proxy-error (WHAT); proxy-untrusted rejects', async (t) => {
  const server = await spawnServer(t, ['--proxy-protocol', '--proxy-from', '127.0.0.1']);
  const echoed = await exchange(server.port, [v1Header('192.0.2.7', 50001, '127.0.0.1', server.port), Buffer.from('abc')]);
  assert.equal(echoed.toString(), 'abc');
  const line = await server.waitForLine(/ close #1 /);
  assert.match(line, / close #1 192\.0\.2\.7:50001 proxy=127\.0\.0\.1:\d+ bytes=3 .*reason=eof$/);
  assert.match(await server.waitForLine(/ open #1 /), / open #1 192\.0\.2\.7:50001 proxy=127\.0\.0\.1:\d+$/);
  await refusedExchange(server.port, [Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n')]);
  assert.match(await server.waitForLine(/ close #2 /), /reason=proxy-error \(v1 bad port\)$/);
  const usage = await runCli(['server', '--port', '0', '--proxy-from', '127.0.0.1']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--proxy-from \(proxyFrom\) needs --proxy-protocol/);
});
