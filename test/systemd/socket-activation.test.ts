// Socket activation end to end: `systemd-socket-activate` binds the port and execs the built
// CLI with the socket as fd 3 (LISTEN_PID/LISTEN_FDS), as systemd does; real signals, real exit
// codes. Descriptors of the wrong kind are passed with a shell that sets LISTEN_PID=$$ and execs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEchoServer } from '../../src/index.js';
import { activationFds } from '../../src/server/inherited-socket.js';
import { activate, assertOneLine, exitOf, noActivate, withFd3 } from '../helpers/activation.js';
import { freePort } from '../helpers/server.js';
import { connectTo, echoOf, readExactly } from '../helpers/echo.js';
import { processTree } from '../helpers/process.js';
import { within } from '../helpers/timeout.js';
import { socketDir } from '../helpers/unix.js';
import { echoRoundTrip } from '../../src/index.js';

const MODES = [['event', []], ['fork', ['--spare', '1']], ['cluster', ['--workers', '2', '--balance', 'rr']], ['cluster', ['--workers', '2', '--balance', 'shared']]] as const;

for (const [mode, extra] of MODES) {
  test(`socket-activated, ${[mode, 'mode', ...extra].join(' ')}: serves a port it did not bind, 16 MiB echoed exact, LISTEN_* not in its children, SIGTERM drains (exit 0)`, { skip: noActivate }, async (t) => {
    const port = await freePort();
    const server = await activate(t, ['-l', `127.0.0.1:${port}`, '--fdname=tcpecho'], ['--mode', mode, ...extra, '--drain-timeout', '10']);
    // The first connection is what makes the activator exec tcpecho; it waits in the kernel's queue.
    const data = randomBytes(16 * 1024 * 1024);
    const echo = echoOf(port, data, 60_000);
    const ready = await server.waitForLine(/^tcpecho listening on /);
    assert.equal(ready, `tcpecho listening on 127.0.0.1:${port} (mode ${mode}, socket-activated fd 3 name=tcpecho)`);
    assert.ok((await echo).equals(data), 'the 16 MiB echo differs');

    // Not one process under tcpecho believes it was activated. (tcpecho's own /proc/PID/environ
    // keeps the variables it was started with: that is the kernel's copy, not process.env.)
    const children = processTree(server.child.pid as number).slice(1);
    if (mode !== 'event') assert.ok(children.length > 0, `no child processes in ${mode} mode`);
    for (const pid of children) assert.doesNotMatch(readFileSync(`/proc/${pid}/environ`, 'latin1'), /(^|\0)LISTEN_(PID|FDS|FDNAMES)=/, `pid ${pid}`);

    // A connection open across SIGTERM keeps being echoed until it ends.
    const client = await connectTo(port);
    t.after(() => client.destroy());
    client.write('before');
    assert.equal((await within(readExactly(client, 6), 10_000, 'echo before SIGTERM')).toString(), 'before');
    server.child.kill('SIGTERM');
    await server.waitForLine(/^received SIGTERM: no longer accepting; draining 1 connection/);
    client.write('after');
    assert.equal((await within(readExactly(client, 5), 10_000, 'echo after SIGTERM')).toString(), 'after');
    client.end();
    const [code] = await exitOf(server.child, 'tcpecho to exit after the drain');
    assert.equal(code, 0, server.lines.join('\n'));
    assert.ok(server.lines.includes('stopped'));
  });
}

test('socket-activated on a Unix stream socket: ready line names its path, echo exact', { skip: noActivate }, async (t) => {
  const path = join(socketDir(t), 'activated.sock');
  const server = await activate(t, ['-l', path], []);
  const data = randomBytes(200_000);
  const echo = echoRoundTrip(data, { unix: path });
  assert.equal(await server.waitForLine(/^tcpecho listening on /), `tcpecho listening on unix:${path} (mode event, socket-activated fd 3)`);
  assert.ok((await echo).equals(data));
  await server.waitForLine(/ close #1 unix bytes=200000 /);
  server.child.kill('SIGTERM');
  assert.equal((await exitOf(server.child, 'tcpecho to exit'))[0], 0);
});

test('socket-activated with a UDP socket (--datagram) and no --udp: one line naming --udp, exit 2', { skip: noActivate }, async (t) => {
  const port = await freePort();
  const server = await activate(t, ['--datagram', '-l', `127.0.0.1:${port}`], []);
  const udp = dgram.createSocket('udp4');
  t.after(() => udp.close());
  await new Promise<void>((resolve, reject) => udp.send('x', port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  const [code] = await exitOf(server.child, 'tcpecho to refuse the UDP socket');
  assert.equal(code, 2);
  assertOneLine(server.lines, /^tcpecho: Cannot listen on fd 3: a UDP socket; tcpecho serves one with `--udp`$/);
});

test('socket-activated with two sockets: one line naming both, exit 2', { skip: noActivate }, async (t) => {
  const [a, b] = [await freePort(), await freePort()];
  const server = await activate(t, ['-l', `127.0.0.1:${a}`, '-l', `127.0.0.1:${b}`, '--fdname=one:two'], []);
  const socket = net.connect(a, '127.0.0.1');
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  const [code] = await exitOf(server.child, 'tcpecho to refuse two sockets');
  assert.equal(code, 2);
  assertOneLine(server.lines, /passed 2 descriptors \(fd 3 name=one, fd 4 name=two\); tcpecho serves one listening socket/);
});

test('socket activation with a regular file as fd 3: one line, exit 2', async (t) => {
  const file = join(socketDir(t), 'file');
  writeFileSync(file, 'x');
  const fd = openSync(file, 'r');
  t.after(() => closeSync(fd));
  const result = await withFd3(fd);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'tcpecho: Cannot listen on fd 3: not a socket (a regular file)\n');
});

test('--listen-fd 3 with a connected (not listening) TCP socket: one line, exit 2', async (t) => {
  const listener = net.createServer((s) => s.on('error', () => {}));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  t.after(() => listener.close());
  const socket = await connectTo((listener.address() as net.AddressInfo).port);
  t.after(() => socket.destroy());
  const result = await withFd3(socket, ['--listen-fd', '3'], '');
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'tcpecho: Cannot listen on fd 3: a TCP socket that is not listening (state 01)\n');
});

test('socket activation with an address as well, a file with --udp, or a bad LISTEN_FDS: one line, exit 2', async (t) => {
  const file = join(socketDir(t), 'file');
  writeFileSync(file, 'x');
  const fd = openSync(file, 'r');
  t.after(() => closeSync(fd));
  const withPort = await withFd3(fd, ['--port', '9']);
  assert.equal(withPort.code, 2);
  assert.match(withPort.stderr, /^tcpecho: Give either socket activation \(LISTEN_FDS\) or an address, not both \(got `--port` with socket activation \(LISTEN_FDS\)\)/);
  const udp = await withFd3(fd, ['--udp']);
  assert.equal(udp.code, 2);
  assert.equal(udp.stderr, 'tcpecho: Cannot serve UDP on fd 3: not a socket (a regular file)\n');
  const bad = await withFd3(fd, [], 'LISTEN_PID=$$ LISTEN_FDS=x');
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'tcpecho: Socket activation: LISTEN_FDS must be a number of descriptors, got `x`\n');
});

test('activationFds: only for this pid; names from LISTEN_FDNAMES; the variables removed', () => {
  const other = { LISTEN_PID: '1', LISTEN_FDS: '1' };
  assert.equal(activationFds(other, 4242), undefined);
  assert.deepEqual(other, { LISTEN_PID: '1', LISTEN_FDS: '1' }, 'variables for another process were touched');
  const env: NodeJS.ProcessEnv = { LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:', KEEP: '1' };
  assert.deepEqual(activationFds(env, 4242), [{ fd: 3, name: 'a' }, { fd: 4, name: undefined }]);
  assert.deepEqual(env, { KEEP: '1' });
  assert.equal(activationFds({ LISTEN_PID: '4242', LISTEN_FDS: '0' }, 4242), undefined);
});

test('library listenFd: a file descriptor rejects with TCPECHO_ERR_INHERITED_SOCKET', async (t) => {
  const file = join(socketDir(t), 'file');
  writeFileSync(file, 'x');
  const fd = openSync(file, 'r');
  t.after(() => closeSync(fd));
  await assert.rejects(startEchoServer({ listenFd: fd }), { code: 'TCPECHO_ERR_INHERITED_SOCKET', message: `Cannot listen on fd ${fd}: not a socket (a regular file)` });
});
