// `tcpecho client` end to end, stdin from a file or pipe: byte-exact and checked, bounded, and one
// clear line on failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CLI, collect, runCli, spawnServer } from '../helpers/cli.js';
import { freePort, startTestServer } from '../helpers/server.js';
import { stuckPort } from '../helpers/stuck-server.js';
import { until, within } from '../helpers/timeout.js';
import { MAX_UNECHOED_BYTES } from '../../src/client/pipe.js';

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
  await within(once(server, 'listening'), 5000, 'server listening');
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
  const free = await freePort();
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

test('no connection within -w (--timeout): one line, exit 1', async (t) => {
  const port = await stuckPort(t);
  const started = Date.now();
  const result = await runCli(['client', '127.0.0.1', String(port), '-w', '0.5'], { input: 'x' });
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
  for (const args of [
    ['127.0.0.1', '99999'],
    ['127.0.0.1', '7007', 'extra'],
    ['--timeout', 'abc'],
    ['--nope'],
    // -t is bench's --threads; the client's timeout is nc's -w.
    ['-t', '1'],
    ['9000', '9001'],
    ['127.0.0.1:9000', '9001'],
    ['-4', '-6'],
    ['-6', '127.0.0.1'],
    ['-4', '[::1]:7007'],
  ]) {
    const result = await runCli(['client', ...args], { input: '' });
    assert.equal(result.code, 2, args.join(' '));
    assertOneLineError(result.stderr, /./);
  }
});

test('an echo that differs: the bytes up to the difference on stdout, one line naming the offset, exit 1', async (t) => {
  // Upper-cases what it echoes: `12345hello` comes back as `12345HELLO`.
  const port = await rawServer(t, (socket) => {
    socket.on('data', (chunk: Buffer) => socket.write(chunk.toString('latin1').toUpperCase(), 'latin1'));
    socket.on('end', () => socket.end());
  });
  const result = await runCli(['client', '127.0.0.1', String(port)], { input: '12345hello' });
  assert.equal(result.code, 1);
  assert.equal(result.stdout.toString(), '12345');
  assert.equal(result.stderr, 'tcpecho: The echo differs from what was sent at byte 5 (sent 0x68, got 0x48)\n');
});

test('one flipped byte deep in a large stream: its offset, and every byte before it on stdout', async (t) => {
  const data = randomBytes(3 * 1024 * 1024);
  const at = 2_000_003;
  const port = await rawServer(t, (socket) => {
    let offset = 0;
    socket.on('data', (chunk: Buffer) => {
      if (offset <= at && at < offset + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[at - offset] = (chunk[at - offset] as number) ^ 0x01;
      }
      offset += chunk.length;
      socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  });
  const result = await runCli(['client', '127.0.0.1', String(port)], { input: data, timeoutMs: 30_000 });
  assert.equal(result.code, 1);
  const sent = data[at] as number;
  const hex = (byte: number) => `0x${byte.toString(16).padStart(2, '0')}`;
  assert.equal(result.stderr, `tcpecho: The echo differs from what was sent at byte ${at} (sent ${hex(sent)}, got ${hex(sent ^ 0x01)})\n`);
  assert.equal(result.stdout.length, at);
  assert.ok(result.stdout.equals(data.subarray(0, at)));
});

test('an echo with bytes that were never sent: one line naming the offset, exit 1', async (t) => {
  // Echoes everything once the client has half-closed, then one byte more.
  const port = await rawServer(t, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat([...chunks, Buffer.from('!')])));
  });
  const result = await runCli(['client', '127.0.0.1', String(port)], { input: 'abc' });
  assert.equal(result.code, 1);
  assert.equal(result.stdout.toString(), 'abc');
  assert.equal(result.stderr, 'tcpecho: The echo has more bytes than were sent: byte 3 (got 0x21) was never sent\n');
});

test('a server that reads and never echoes: the client stops reading its input at the bound', async (t) => {
  let received = 0;
  let reachedBound: () => void = () => {};
  const bound = new Promise<void>((resolve) => (reachedBound = resolve));
  const port = await rawServer(t, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= MAX_UNECHOED_BYTES) reachedBound();
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'big.bin');
  writeFileSync(input, Buffer.alloc(64 * 1024 * 1024, 'x'));
  const fd = openSync(input, 'r');
  t.after(() => closeSync(fd));
  const child = spawn(process.execPath, [CLI, 'client', '127.0.0.1', String(port)], { stdio: [fd, 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const exited = collect(child, undefined, 60_000, 'client against a server that never echoes');
  await within(bound, 20_000, `server to receive ${MAX_UNECHOED_BYTES} bytes (got ${received})`);
  // How far the client has read its stdin: the kernel's offset in the file they share.
  const readSoFar = () => Number(/^pos:\s+(\d+)$/m.exec(readFileSync(`/proc/${child.pid}/fdinfo/0`, 'utf8'))?.[1]);
  // A bound is shown by the absence of growth, which only time can show: once at the bound the
  // client is watched for a while, and fails the moment it reads or sends past it (plus the
  // stream buffers' slack). The unbounded client read the whole 64 MiB in far less time.
  const limit = MAX_UNECHOED_BYTES + 1024 * 1024;
  let checks = 0;
  await until(() => readSoFar() > limit || received > limit || ++checks >= 40, 10_000, 'the watch');
  assert.ok(readSoFar() <= limit, `the client read ${readSoFar()} bytes of its input with nothing echoed`);
  assert.ok(received <= limit, `the client sent ${received} bytes with nothing echoed`);
  child.kill('SIGTERM');
  await exited;
});

test('-v: the resolved address, the connection and the byte counts on stderr; stdout is the echo', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['client', '-v', '-4', 'localhost', String(server.address.port)], { input: 'hello' });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.toString(), 'hello');
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines[0], 'Resolved localhost to 127.0.0.1');
  assert.match(lines[1] as string, new RegExp(`^Connected to 127\\.0\\.0\\.1:${server.address.port} from 127\\.0\\.0\\.1:\\d+$`));
  assert.equal(lines[2], 'Sent 5 bytes, received 5, every byte as sent');
  assert.equal(lines.length, 3);
});

test('without -v a successful run prints nothing on stderr', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['client', String(server.address.port), '-w', '5'], { input: 'hello' });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.equal(result.stdout.toString(), 'hello');
});
