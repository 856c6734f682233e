// `tcpecho client` end to end, stdin from a file or pipe: byte-exact, and one clear line on failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CLI, collect, runCli, spawnServer } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { stuckPort } from '../helpers/stuck-server.js';

function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, /^tcpecho: /);
  assert.match(stderr, pattern);
}

/** A throwaway loopback server with custom (misbehaving) connection handling. */
async function rawServer(t: TestContext, onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

for (const mode of ['event', 'fork'] as const) {
  test(`${mode} server: a binary file piped through the client comes back identical, exit 0`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode]);
    const dir = mkdtempSync(join(tmpdir(), 'tcpecho-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const input = join(dir, 'big.bin');
    const data = randomBytes(8 * 1024 * 1024 + 17);
    writeFileSync(input, data);
    const fd = openSync(input, 'r');
    t.after(() => closeSync(fd));
    const child = spawn(process.execPath, [CLI, 'client', '127.0.0.1', String(server.port)], { stdio: [fd, 'pipe', 'pipe'] });
    const result = await collect(child, undefined, 30_000, 'client with a file on stdin');
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.equal(result.stdout.length, data.length);
    assert.ok(result.stdout.equals(data));
  });
}

test('stdin from a pipe, written slowly in pieces, comes back whole', async (t) => {
  const server = await startTestServer(t);
  const child = spawn(process.execPath, [CLI, 'client', '127.0.0.1', String(server.address.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const parts = [randomBytes(10), randomBytes(100_000), randomBytes(1)];
  const done = collect(child, null, 20_000, 'client');
  for (const part of parts) {
    child.stdin?.write(part);
    await new Promise((resolve) => setImmediate(resolve));
  }
  child.stdin?.end();
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.equals(Buffer.concat(parts)));
});

test('empty stdin: connects, half-closes, exits 0 with nothing on stdout', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['client', '127.0.0.1', String(server.address.port)], { input: '' });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.length, 0);
});

test('connection refused: one line, exit 1', async () => {
  // A port nobody listens on: a just-closed one.
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const free = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const result = await runCli(['client', '127.0.0.1', String(free)], { input: 'x' });
  assert.equal(result.code, 1);
  assertOneLineError(result.stderr, /Connection refused by 127\.0\.0\.1:\d+/);
});

test('unknown host: one line, exit 1', async () => {
  // .invalid is reserved (RFC 2606): it never resolves.
  const result = await runCli(['client', 'no-such-host.invalid', '7007'], { input: 'x' });
  assert.equal(result.code, 1);
  assertOneLineError(result.stderr, /Unknown host `no-such-host\.invalid`|Cannot resolve/);
});

test('no connection within --timeout: one line, exit 1', async (t) => {
  const port = await stuckPort(t);
  const started = Date.now();
  const result = await runCli(['client', '127.0.0.1', String(port), '--timeout', '0.5'], { input: 'x' });
  assert.equal(result.code, 1);
  assertOneLineError(result.stderr, /No connection to 127\.0\.0\.1:\d+ within 500 ms/);
  assert.ok(Date.now() - started < 8000);
});

test('the server resets the connection: one line, exit 1', async (t) => {
  const port = await rawServer(t, (socket) => socket.once('data', () => socket.resetAndDestroy()));
  const result = await runCli(['client', '127.0.0.1', String(port)], { input: randomBytes(1000) });
  assert.equal(result.code, 1);
  assertOneLineError(result.stderr, /reset the connection \(ECONNRESET\)|closed the connection/);
});

test('the server closes before echoing everything: one line naming the shortfall, exit 1', async (t) => {
  const port = await rawServer(t, (socket) => {
    socket.once('data', (chunk: Buffer) => socket.end(chunk.subarray(0, 10)));
  });
  const result = await runCli(['client', '127.0.0.1', String(port)], { input: randomBytes(100) });
  assert.equal(result.code, 1);
  assertOneLineError(result.stderr, /after echoing 10 of \d+ bytes/);
});

test('client usage errors exit 2', async () => {
  for (const args of [['127.0.0.1', '99999'], ['127.0.0.1', '7007', 'extra'], ['--timeout', 'abc'], ['--nope']]) {
    const result = await runCli(['client', ...args], { input: '' });
    assert.equal(result.code, 2, args.join(' '));
    assertOneLineError(result.stderr, /./);
  }
});
