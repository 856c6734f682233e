// Unix domain sockets through the library: every mode echoes over one, the socket file's life
// (stale replaced, live refused, other files untouched, mode, removed on close), abstract names
// (reached by Node and by socat), and the peers such connections report.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connectEcho, echoRoundTrip, startEchoServer, type ConnectionClose, type ConnectionOpen, type EchoServerOptions } from '../../src/index.js';
import { readExactly } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';
import { abstractName, socketDir, staleSocket } from '../helpers/unix.js';

/** One worker in cluster mode: enough to show the primary's part, and quicker to start. */
const inMode = (mode: 'event' | 'fork' | 'cluster'): EchoServerOptions => (mode === 'cluster' ? { mode, workers: 1 } : { mode });

const MODES: Array<[string, EchoServerOptions]> = [
  ['event', { mode: 'event' }],
  ['fork', { mode: 'fork', spare: 1 }],
  ['cluster rr', { mode: 'cluster', workers: 2, balance: 'rr' }],
  ['cluster shared', { mode: 'cluster', workers: 2, balance: 'shared' }],
];

for (const [name, options] of MODES) {
  describe(`${name} mode on a Unix socket`, () => {
    test('echoes 16 MiB of random bytes exactly, half-close included; url, address and peers say unix', async (t) => {
      const path = join(socketDir(t), 'echo.sock');
      const server = await startTestServer(t, { ...options, unix: path });
      assert.equal(server.url, `unix:${path}`);
      assert.deepEqual(server.address, { host: path, port: 0, family: 'unix' });
      assert.ok(lstatSync(path).isSocket());
      const opened: ConnectionOpen[] = [];
      const closed: ConnectionClose[] = [];
      server.on('connection', (info) => opened.push(info));
      server.on('disconnect', (info) => closed.push(info));
      const data = randomBytes(16 * 1024 * 1024);
      // echoRoundTrip writes everything, half-closes, and reads until the server's FIN.
      const echoed = await echoRoundTrip(data, { unix: path, timeoutMs: 60_000 });
      assert.equal(echoed.length, data.length);
      assert.ok(echoed.equals(data), '16 MiB echo differs');
      await until(() => closed.length === 1, 10_000, 'the close event');
      assert.equal(opened.length, 1);
      assert.equal(opened[0]?.remoteAddress, 'unix');
      assert.equal(opened[0]?.remotePort, 0);
      assert.equal(closed[0]?.remoteAddress, 'unix');
      assert.equal(closed[0]?.reason, 'eof');
      assert.equal(closed[0]?.bytesWritten, data.length);
    });

    test('close() removes the socket file', async (t) => {
      const path = join(socketDir(t), 'echo.sock');
      const server = await startTestServer(t, { ...options, unix: path });
      assert.ok((await echoRoundTrip(Buffer.from('x'), { unix: path })).equals(Buffer.from('x')));
      await within(server.close(), 10_000, 'close()');
      assert.equal(existsSync(path), false, 'the socket file is still there');
    });
  });
}

test('a stale socket file (nobody listening) is removed and replaced', async (t) => {
  const path = join(socketDir(t), 'stale.sock');
  await staleSocket(path);
  const server = await startTestServer(t, { unix: path });
  assert.equal(server.url, `unix:${path}`);
  assert.ok((await echoRoundTrip(Buffer.from('fresh'), { unix: path })).equals(Buffer.from('fresh')));
});

test('a live socket (another server answers) is EADDRINUSE; the first server keeps its file and its clients', async (t) => {
  for (const mode of ['event', 'cluster'] as const) {
    const path = join(socketDir(t), `${mode}.sock`);
    const first = await startTestServer(t, { unix: path });
    await assert.rejects(startEchoServer({ ...inMode(mode), unix: path }), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
    assert.ok(lstatSync(path).isSocket(), 'the refused server removed the live socket file');
    assert.ok((await echoRoundTrip(Buffer.from('still here'), { unix: path })).equals(Buffer.from('still here')));
    assert.equal(first.connections, 0);
  }
});

test('a path that exists and is not a socket is left untouched: TCPECHO_ERR_LISTEN', async (t) => {
  const dir = socketDir(t);
  const file = join(dir, 'notes.txt');
  writeFileSync(file, 'keep me');
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  for (const mode of ['event', 'fork', 'cluster'] as const) {
    await assert.rejects(startEchoServer({ ...inMode(mode), unix: file }), { code: 'TCPECHO_ERR_LISTEN', message: /exists and is not a socket/ });
    await assert.rejects(startEchoServer({ ...inMode(mode), unix: sub }), { code: 'TCPECHO_ERR_LISTEN' });
  }
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
  assert.ok(statSync(sub).isDirectory());
});

test('a missing directory is TCPECHO_ERR_LISTEN naming the path', async (t) => {
  const path = join(socketDir(t), 'no', 'such', 'dir.sock');
  await assert.rejects(startEchoServer({ unix: path }), { code: 'TCPECHO_ERR_LISTEN', message: new RegExp(`unix:${path}.*ENOENT`) });
});

test('unixMode sets the socket file permissions (event and cluster)', async (t) => {
  for (const [mode, unixMode] of [['event', 0o600], ['cluster', 0o660]] as const) {
    const path = join(socketDir(t), `${mode}.sock`);
    await startTestServer(t, { ...inMode(mode), unix: path, unixMode });
    assert.equal(statSync(path).mode & 0o7777, unixMode);
  }
});

test('option checks: unixMode without unix, unixMode on an abstract name, a path too long, an empty one', async () => {
  await assert.rejects(startEchoServer({ unixMode: 0o600 }), { code: 'TCPECHO_ERR_USAGE', message: /`unixMode` needs `unix`/ });
  await assert.rejects(startEchoServer({ unix: '@abstract', unixMode: 0o600 }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(startEchoServer({ unix: `/tmp/${'x'.repeat(110)}` }), { code: 'TCPECHO_ERR_USAGE', message: /at most 107 bytes/ });
  await assert.rejects(startEchoServer({ unix: '' }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(startEchoServer({ unix: '/tmp/a', unixMode: 0o17777 }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(connectEcho({ unix: `@${'y'.repeat(108)}` }), { code: 'TCPECHO_ERR_USAGE' });
  await assert.rejects(connectEcho({ unix: 'a\0b' }), { code: 'TCPECHO_ERR_USAGE' });
});

test('connecting to a path with no socket is TCPECHO_ERR_CONNECT naming it', async (t) => {
  const path = join(socketDir(t), 'nobody.sock');
  await assert.rejects(connectEcho({ unix: path }), { code: 'TCPECHO_ERR_CONNECT', message: new RegExp(`unix:${path}: no such socket`) });
  await staleSocket(path);
  await assert.rejects(connectEcho({ unix: path }), { code: 'TCPECHO_ERR_CONNECT', message: /refused/ });
});

describe('abstract names (@name)', () => {
  test('a server on @name echoes to a Node client; no file, and the name is gone after close()', async (t) => {
    const name = abstractName();
    const server = await startTestServer(t, { unix: name });
    assert.equal(server.url, `unix:${name}`);
    assert.deepEqual(server.address, { host: name, port: 0, family: 'unix' });
    const data = randomBytes(1024 * 1024);
    assert.ok((await echoRoundTrip(data, { unix: name })).equals(data));
    // The kernel lists it as @name (then Node's NUL padding, printed as @ too).
    assert.match(readFileSync('/proc/net/unix', 'latin1'), new RegExp(` ${name}@*\\n`));
    await within(server.close(), 10_000, 'close()');
    await assert.rejects(connectEcho({ unix: name }), { code: 'TCPECHO_ERR_CONNECT' });
  });

  test('a second server on the same @name is EADDRINUSE', async (t) => {
    const name = abstractName();
    await startTestServer(t, { unix: name });
    await assert.rejects(startEchoServer({ unix: name }), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
  });

  const noSocat = spawnSync('socat', ['-V']).status !== 0 && 'socat is not installed';

  test('socat reaches it with unix-tightsocklen=0 (Node pads the name to all of sun_path)', { skip: noSocat }, async (t) => {
    const name = abstractName();
    await startTestServer(t, { unix: name });
    const child = spawn('socat', ['-', `ABSTRACT-CONNECT:${name.slice(1)},unix-tightsocklen=0`], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    const data = randomBytes(200_000);
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stdin.end(data);
    const [code] = (await within(once(child, 'close'), 10_000, 'socat')) as [number | null];
    assert.equal(code, 0);
    assert.ok(Buffer.concat(out).equals(data), 'socat got another echo');
  });

  test("socat's default (the name's own length) is refused: the padding the README warns of", { skip: noSocat }, async (t) => {
    const name = abstractName();
    await startTestServer(t, { unix: name });
    const result = spawnSync('socat', ['-', `ABSTRACT-CONNECT:${name.slice(1)}`], { input: 'x', timeout: 10_000, encoding: 'utf8' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Connection refused/);
  });
});

test('fork mode: a Unix client waiting for a child is not dropped as gone, and is served once one frees', async (t) => {
  const path = join(socketDir(t), 'fork.sock');
  const server = await startTestServer(t, { mode: 'fork', maxChildren: 1, spare: 0, unix: path });
  const gone: ConnectionClose[] = [];
  server.on('disconnect', (info) => info.reason === 'gone' && gone.push(info));
  const first = await connectEcho({ unix: path });
  first.on('error', () => {});
  t.after(() => first.destroy());
  first.write('a');
  await within(readExactly(first, 1), 10_000, 'the first client served');
  const second = await connectEcho({ unix: path });
  second.on('error', () => {});
  t.after(() => second.destroy());
  const data = randomBytes(50_000);
  const echoed = readExactly(second, data.length);
  second.write(data);
  await until(() => server.connections === 2, 5000, 'the second client waiting');
  // Past the waiting queue's check of the kernel's tables (once a second): a TCP client missing
  // from them would be dropped as gone here.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(gone.length, 0, 'a waiting Unix client was dropped as gone');
  assert.equal(server.connections, 2);
  first.end();
  assert.ok((await within(echoed, 20_000, 'the second client served')).equals(data));
});

test('the Unix peer of a connection refused at maxConnections is reported as unix, port 0', async (t) => {
  const path = join(socketDir(t), 'limit.sock');
  const server = await startTestServer(t, { maxConnections: 1, unix: path });
  const rejects: Array<{ remoteAddress: string; remotePort: number }> = [];
  server.on('reject', (info) => rejects.push(info));
  const held = await connectEcho({ unix: path });
  held.on('error', () => {});
  t.after(() => held.destroy());
  held.write('h');
  await within(readExactly(held, 1), 5000, 'held client');
  const extra = net.connect({ path });
  extra.on('error', () => {});
  t.after(() => extra.destroy());
  await within(once(extra, 'close'), 5000, 'the extra client closed');
  assert.deepEqual(rejects.map(({ remoteAddress, remotePort }) => ({ remoteAddress, remotePort })), [{ remoteAddress: 'unix', remotePort: 0 }]);
});

test('cluster shared: a worker that dies (its copy of the listening socket closed) leaves the file, and its replacement serves', async (t) => {
  const path = join(socketDir(t), 'restart.sock');
  const server = await startTestServer(t, { mode: 'cluster', workers: 2, balance: 'shared', unix: path });
  const [victim] = server.childPids;
  assert.ok(victim !== undefined);
  process.kill(victim, 'SIGTERM');
  await until(() => server.childPids.length === 2 && !server.childPids.includes(victim), 10_000, 'a replacement worker');
  assert.ok(lstatSync(path).isSocket(), 'the socket file went with the worker');
  for (let i = 0; i < 4; i++) assert.ok((await echoRoundTrip(Buffer.from(`after ${i}`), { unix: path })).equals(Buffer.from(`after ${i}`)));
});

test('runBench({ unix }) drives a server on a Unix socket, every byte verified', async (t) => {
  const path = join(socketDir(t), 'bench.sock');
  await startTestServer(t, { unix: path });
  const { runBench } = await import('../../src/bench/index.js');
  const result = await within(runBench({ unix: path, connections: 4, messages: 1000, warmupMs: 0 }), 30_000, 'runBench');
  assert.equal(result.target, `unix:${path}`);
  assert.equal(result.errorTotal, 0, result.errorSamples.join('; '));
  assert.ok(result.messages >= 1000);
});
