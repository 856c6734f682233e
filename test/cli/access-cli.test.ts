// `--allow`/`--deny` and `--hexdump` through the built executable: usage errors, the reject line,
// the dump on stderr of whichever process echoes, and the client's dump (stderr, never stdout).
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { hexdumpLines } from '../../src/hexdump.js';
import { runCli, spawnServer } from '../helpers/cli.js';
import { endWithEcho } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { within } from '../helpers/timeout.js';

const PAYLOAD = Buffer.from('hello world, this is tcpecho!\n\x00\xff', 'latin1');

for (const args of [['--allow', '10.0.0.0/33'], ['--allow', 'abc'], ['--deny', '::1/129'], ['--allow', '127.0.0.1', '--deny', 'abc']]) {
  const value = args.at(-1) as string;
  test(`server ${args.join(' ')} is a usage error naming the value: one line, exit 2`, async () => {
    const result = await runCli(['server', '--port', '0', ...args]);
    assert.equal(result.code, 2);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] as string, /^tcpecho: /);
    assert.ok((lines[0] as string).includes(value), lines[0]);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
}

/** Connects from `localAddress`, sends, and resolves with what came back once the server closed. */
function bytesBack(port: number, localAddress: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.once('connect', () => socket.end('hello'));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

for (const mode of ['event', 'fork']) {
  test(`${mode} mode: --allow 127.0.0.1/32 refuses 127.0.0.2 with a reject line, and serves 127.0.0.1`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode, '--allow', '127.0.0.1/32']);
    const back = await within(bytesBack(server.port, '127.0.0.2'), 10_000, 'the refused client closed');
    assert.equal(back.length, 0);
    await server.waitForLine(/ reject 127\.0\.0\.2:\d+ reason=denied rejected=1$/);
    const socket = net.connect({ port: server.port, host: '127.0.0.1', localAddress: '127.0.0.1', allowHalfOpen: true });
    t.after(() => socket.destroy());
    assert.ok((await endWithEcho(socket, PAYLOAD, 10_000, 'the allowed echo')).equals(PAYLOAD));
    await server.waitForLine(/ close #1 127\.0\.0\.1:\d+ .*reason=eof$/);
    assert.ok(!server.lines.some((line) => / open #\d+ 127\.0\.0\.2/.test(line)), 'the refused client was never opened');
  });
}

/** The dump's lines for one chunk: its header, then the hexdump lines. */
function dumpOf(header: string, data: Buffer): string {
  return `${header}\n${hexdumpLines(data)}`;
}

for (const args of [['--mode', 'event'], ['--mode', 'fork'], ['--mode', 'cluster', '--workers', '2'], ['--mode', 'cluster', '--workers', '2', '--balance', 'shared']]) {
  test(`server --hexdump ${args.join(' ')}: each chunk received and sent is dumped on stderr by the process that echoes`, async (t) => {
    const server = await spawnServer(t, [...args, '--hexdump']);
    const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    t.after(() => socket.destroy());
    assert.ok((await endWithEcho(socket, PAYLOAD, 10_000, 'the echo')).equals(PAYLOAD));
    const close = await server.waitForLine(/ close #\d+ /);
    const id = /#(\d+)/.exec(close)?.[1] as string;
    const dumpLines = hexdumpLines(PAYLOAD).trimEnd().split('\n').length;
    const received = await server.waitForLine(new RegExp(`^#${id} < ${PAYLOAD.length} bytes$`));
    const sent = await server.waitForLine(new RegExp(`^#${id} > ${PAYLOAD.length} bytes$`));
    const at = (line: string): string => server.lines.slice(server.lines.indexOf(line), server.lines.indexOf(line) + 1 + dumpLines).join('\n') + '\n';
    assert.equal(at(received), dumpOf(received, PAYLOAD));
    assert.equal(at(sent), dumpOf(sent, PAYLOAD));
  });
}

test('client --hexdump: what it sends and receives goes to stderr; stdout carries the echo alone', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['client', '127.0.0.1', String(server.address.port), '--hexdump'], { input: PAYLOAD });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.equals(PAYLOAD), 'stdout is the echo, byte for byte');
  assert.ok(result.stderr.includes(dumpOf(`> ${PAYLOAD.length} bytes`, PAYLOAD)), result.stderr);
  assert.ok(result.stderr.includes(dumpOf(`< ${PAYLOAD.length} bytes`, PAYLOAD)), result.stderr);
});

test('client --hexdump: a long stream is dumped whole, in order, with offsets numbering on', async (t) => {
  const server = await startTestServer(t);
  const data = Buffer.alloc(300_000, 'abcdefghijklmnopqrstuvwxyz');
  const result = await runCli(['client', '127.0.0.1', String(server.address.port), '--hexdump'], { input: data, timeoutMs: 30_000 });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.equals(data));
  for (const direction of ['>', '<']) {
    const counts = [...result.stderr.matchAll(new RegExp(`^${direction} (\\d+) bytes$`, 'gm'))].map((m) => Number(m[1]));
    assert.equal(counts.reduce((a, b) => a + b, 0), data.length, `${direction}: every byte dumped`);
  }
  // The last line of the dump, whichever direction ends it, is at the stream's last 16 bytes.
  assert.match(result.stderr, new RegExp(`^${(data.length - (data.length % 16 || 16)).toString(16).padStart(8, '0')}  `, 'm'));
});

for (const mode of ['event', 'fork']) {
  test(`${mode} mode: --hexdump with --chunk 4:20: the echo goes out in pieces of 4 bytes and each piece is dumped as sent`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode, '--hexdump', '--chunk', '4:20']);
    const data = Buffer.from('0123456789', 'latin1');
    const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    t.after(() => socket.destroy());
    const started = performance.now();
    assert.ok((await endWithEcho(socket, data, 10_000, 'the chunked echo')).equals(data));
    // Three pieces 20 ms apart take 40 ms at least, however loaded the machine (a stalled reader
    // may find them in one read: the pieces are counted in the dump below).
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs >= 38, `10 bytes in pieces of 4, 20 ms apart, came back in ${elapsedMs.toFixed(0)} ms`);
    const close = await server.waitForLine(/ close #\d+ .*faults=chunk/);
    const id = /#(\d+)/.exec(close)?.[1] as string;
    await server.waitForLine(new RegExp(`^#${id} < 10 bytes$`));
    const sent = server.lines.filter((line) => new RegExp(`^#${id} > \\d+ bytes$`).test(line)).map((line) => Number(/> (\d+)/.exec(line)?.[1]));
    assert.deepEqual(sent, [4, 4, 2]);
  });
}
