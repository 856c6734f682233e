// Socket activation of `tcpecho server --udp`: `systemd-socket-activate --datagram` binds the UDP
// port and execs the built CLI with the socket as fd 3, as systemd does for `ListenDatagram=`;
// tcpecho opens it (dgram's `bind({ fd })`) instead of binding. Real datagrams on loopback,
// real signals and exit codes; descriptors of the wrong kind are refused in one line, exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startUdpEchoServer } from '../../src/index.js';
import { activate, assertOneLine, exitOf, noActivate, withFd3 } from '../helpers/activation.js';
import { freePort, freeUdpPort } from '../helpers/server.js';
import { connectTo } from '../helpers/echo.js';
import { roundTrip, udpSocket } from '../helpers/udp.js';
import { socketDir } from '../helpers/unix.js';

/** `payload` sent from `socket` to host:port until its echo comes (at most 3 tries of 1 s: UDP may lose one); the echo, or undefined. */
async function echoOf(socket: import('node:dgram').Socket, host: string, port: number, payload: Buffer): Promise<Buffer | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const echo = await roundTrip(socket, port, payload, 1000, host);
    if (echo !== undefined) return echo;
  }
  return undefined;
}

/** 256 datagrams of 65,507 bytes (16 MiB, the IPv4 maximum each) with distinct contents, each echoed exact. */
async function sixteenMiB(socket: import('node:dgram').Socket, host: string, port: number): Promise<void> {
  const payload = Buffer.alloc(65_507);
  for (let i = 0; i < 256; i++) {
    for (let j = 0; j < payload.length; j += 4) payload.writeUInt32LE(((i * 2654435761) ^ j) >>> 0, Math.min(j, payload.length - 4));
    const echo = await echoOf(socket, host, port, payload);
    assert.ok(echo !== undefined, `datagram ${i}: no echo in 3 tries`);
    assert.ok(echo.equals(payload), `datagram ${i}: the echo differs`);
  }
}

for (const host of ['127.0.0.1', '::1']) {
  test(`socket-activated --udp on ${host}: serves a UDP port it did not bind, the first datagram answered, 16 MiB echoed exact, SIGTERM stops with the summary (exit 0)`, { skip: noActivate }, async (t) => {
    const port = await freeUdpPort(host);
    const url = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const server = await activate(t, ['--datagram', '-l', url, '--fdname=echo-udp'], ['--udp', '-q']);
    const socket = await udpSocket(t, host);
    // The first datagram is what makes the activator exec tcpecho; it waits in the socket's queue.
    const first = await echoOf(socket, host, port, Buffer.from('first'));
    assert.equal(first?.toString(), 'first');
    assert.equal(await server.waitForLine(/^tcpecho listening on /), `tcpecho listening on ${url} (mode event, udp, socket-activated fd 3 name=echo-udp)`);
    await sixteenMiB(socket, host, port);
    server.child.kill('SIGTERM');
    const [code] = await exitOf(server.child, 'tcpecho --udp to exit on SIGTERM');
    assert.equal(code, 0, server.lines.join('\n'));
    const summary = server.lines.find((line) => line.startsWith('received SIGTERM: stopped; '));
    const echoed = Number(/echoed (\d+) datagram/.exec(summary ?? '')?.[1]);
    assert.ok(echoed >= 257, summary);
  });
}

test('--udp --listen-fd 3 under a parent that passes a UDP socket without LISTEN_*: served, the ready line says fd 3', { skip: noActivate }, async (t) => {
  const port = await freeUdpPort();
  const unset = ['env', '-u', 'LISTEN_PID', '-u', 'LISTEN_FDS', '-u', 'LISTEN_FDNAMES'];
  const server = await activate(t, ['--datagram', '-l', `127.0.0.1:${port}`], ['--udp', '--listen-fd', '3'], unset);
  const socket = await udpSocket(t);
  assert.equal((await echoOf(socket, '127.0.0.1', port, Buffer.from('hello')))?.toString(), 'hello');
  assert.equal(await server.waitForLine(/^tcpecho listening on /), `tcpecho listening on 127.0.0.1:${port} (mode event, udp, fd 3)`);
  server.child.kill('SIGTERM');
  assert.equal((await exitOf(server.child, 'tcpecho to exit'))[0], 0);
});

test('socket-activated --udp with a TCP listening socket: one line naming the mismatch, exit 2', { skip: noActivate }, async (t) => {
  const port = await freePort();
  const server = await activate(t, ['-l', `127.0.0.1:${port}`], ['--udp']);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  const [code] = await exitOf(server.child, 'tcpecho --udp to refuse the TCP socket');
  assert.equal(code, 2);
  assertOneLine(server.lines, /^tcpecho: Cannot serve UDP on fd 3: a TCP socket; tcpecho serves one without `--udp`$/);
});

const noSocat = spawnSync('socat', ['-V']).status !== 0 && 'socat is not installed';

test('socket-activated --udp with a Unix datagram socket: one line naming the mismatch, exit 2', { skip: noActivate || noSocat }, async (t) => {
  const path = join(socketDir(t), 'dgram.sock');
  const server = await activate(t, ['--datagram', '-l', path], ['--udp']);
  // Node cannot send on a Unix datagram socket: socat's datagram is what starts tcpecho.
  const sent = spawnSync('socat', ['-u', 'STDIN', `UNIX-SENDTO:${path}`], { input: 'x', timeout: 10_000 });
  assert.equal(sent.status, 0, String(sent.stderr));
  const [code] = await exitOf(server.child, 'tcpecho --udp to refuse the Unix datagram socket');
  assert.equal(code, 2);
  assertOneLine(server.lines, /^tcpecho: Cannot serve UDP on fd 3: a Unix datagram socket; `--udp` serves UDP sockets \(IPv4 or IPv6\)$/);
});

/** A connected socket pair's client end: over TCP on 127.0.0.1, or over a Unix stream socket. */
async function connected(t: TestContext, unix: boolean): Promise<net.Socket> {
  const listener = net.createServer((s) => s.on('error', () => {}));
  const path = join(socketDir(t), 'stream.sock');
  if (unix) listener.listen(path);
  else listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  t.after(() => listener.close());
  const socket = unix ? net.connect(path) : await connectTo((listener.address() as net.AddressInfo).port);
  if (unix) await once(socket, 'connect');
  t.after(() => socket.destroy());
  return socket;
}

test('--udp with fd 3 a TCP or Unix stream socket, or with an address as well: one line each, exit 2', async (t) => {
  const tcp = await withFd3(await connected(t, false), ['--udp']);
  assert.equal(tcp.code, 2);
  assert.equal(tcp.stderr, 'tcpecho: Cannot serve UDP on fd 3: a TCP socket; tcpecho serves one without `--udp`\n');
  const unix = await withFd3(await connected(t, true), ['--udp', '--listen-fd', '3'], '');
  assert.equal(unix.code, 2);
  assert.equal(unix.stderr, 'tcpecho: Cannot serve UDP on fd 3: a Unix stream socket; `--udp` serves UDP sockets (IPv4 or IPv6)\n');
  const withPort = await withFd3(await connected(t, false), ['--udp', '--port', '9']);
  assert.equal(withPort.code, 2);
  assert.match(withPort.stderr, /^tcpecho: Give either socket activation \(LISTEN_FDS\) or an address, not both \(got `--port` with socket activation \(LISTEN_FDS\)\) \(see `tcpecho server --help`\)\n$/);
});

test('library startUdpEchoServer({ listenFd }): a file descriptor rejects with TCPECHO_ERR_INHERITED_SOCKET', async (t) => {
  const file = join(socketDir(t), 'file');
  writeFileSync(file, 'x');
  const fd = openSync(file, 'r');
  t.after(() => closeSync(fd));
  await assert.rejects(startUdpEchoServer({ listenFd: fd }), { code: 'TCPECHO_ERR_INHERITED_SOCKET', message: `Cannot serve UDP on fd ${fd}: not a socket (a regular file)` });
});
