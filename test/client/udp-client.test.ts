// `tcpecho client --udp`, the built CLI end to end, and its interactive session through the library.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { startUdpEchoServer } from '../../src/index.js';
import { openUdpPeer, closeQuietly } from '../../src/client/udp-socket.js';
import { udpInteractive } from '../../src/client/udp-interactive.js';
import { runCli } from '../helpers/cli.js';
import { faultyEchoServer, udpSocket } from '../helpers/udp.js';
import { within } from '../helpers/timeout.js';

test('client --udp pipe: 10 MiB through tcpecho server --udp comes back identical, exit 0', async (t) => {
  const server = await startUdpEchoServer({ udpRate: 0 });
  t.after(() => server.destroy());
  const input = randomBytes(10 * 2 ** 20);
  const result = await runCli(['client', '--udp', '-v', '127.0.0.1', String(server.address.port)], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.equals(input), `${result.stdout.length} bytes back`);
  assert.match(result.stderr, /Received 10485760 bytes, every byte as sent/);
});

test('client --udp pipe against a server that drops, duplicates and reorders: the file exactly, exit 0', async (t) => {
  const server = await faultyEchoServer(t, { drop: 0.05, duplicate: 0.05, delay: 0.05, delayMs: 30, seed: 7 });
  // Zeros too: datagrams with equal bytes must not confuse the matching.
  const input = Buffer.concat([randomBytes(600_000), Buffer.alloc(200_000), randomBytes(200_001)]);
  const result = await runCli(['client', '--udp', '-v', '--timeout', '0.2', '--retries', '8', '--datagram-size', '1000', '127.0.0.1', String(server.port)], { input });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.equals(input), `${result.stdout.length} bytes back`);
  assert.match(result.stderr, /Sent 1001 datagram\(s\), 1000001 bytes; [1-9]\d* resent, [1-9]\d* echo\(es\) ignored/);
});

test('client --udp pipe: a datagram never echoed is lost after its retries: one line, exit 1, stdout the exact bytes before it', async (t) => {
  const input = randomBytes(20_000);
  const never = input.subarray(5000, 6000);
  const server = await faultyEchoServer(t, { never });
  const result = await runCli(['client', '--udp', '--timeout', '0.1', '--retries', '2', '--datagram-size', '1000', '127.0.0.1', String(server.port)], { input });
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trim(), 'tcpecho: 1 of 20 datagram(s) lost (no echo after 2 retries); the output holds the 5000 bytes before the first lost one');
  assert.ok(result.stdout.equals(input.subarray(0, 5000)));
  // Sent once and retried twice.
  assert.equal(server.received() - 19, 3);
});

test('client --udp with no server: ICMP port unreachable, one line, exit 1', async (t) => {
  const gone = await udpSocket(t);
  const port = gone.address().port;
  gone.close();
  const result = await runCli(['client', '--udp', '127.0.0.1', String(port)], { input: 'hello' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^tcpecho: No UDP echo server there \(ICMP port unreachable, ECONNREFUSED\)\n$/);
});

test('client --udp: a datagram size past the IPv4 maximum is a usage error, exit 2', async () => {
  const result = await runCli(['client', '--udp', '--datagram-size', '65508', '127.0.0.1', '9'], { input: '' });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /at most 65507 bytes over IPv4/);
});

test('interactive UDP: each line is one datagram, its echo is written; a line with no echo gets `no echo within`', async (t) => {
  const server = await startUdpEchoServer();
  t.after(() => server.destroy());
  const peer = await openUdpPeer('127.0.0.1', server.address.port, undefined);
  t.after(() => closeQuietly(peer.socket));
  const input = new PassThrough();
  const output = new PassThrough();
  const logs: string[] = [];
  const session = udpInteractive(peer.socket, { input, output, log: (line) => logs.push(line), timeoutMs: 300 });
  input.write('first line\nsecond\n');
  let shown = '';
  output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  input.end();
  await within(session, 3000, 'the session to end');
  assert.equal(shown, 'first line\nsecond\n');
  assert.equal(logs.length, 0, logs.join('; '));

  const silent = await udpSocket(t);
  const mute = await openUdpPeer('127.0.0.1', silent.address().port, undefined);
  t.after(() => closeQuietly(mute.socket));
  const input2 = new PassThrough();
  const session2 = udpInteractive(mute.socket, { input: input2, output: new PassThrough(), log: (line) => logs.push(line), timeoutMs: 200 });
  input2.end('anyone?\n');
  await within(session2, 3000, 'the second session to end');
  assert.deepEqual(logs, ['no echo within 0.2 s']);
});

test('client --udp --hexdump: each datagram sent and its echo in hexdump -C layout on stderr, stdout unchanged', async (t) => {
  const server = await startUdpEchoServer();
  t.after(() => server.destroy());
  const result = await runCli(['client', '--udp', '--hexdump', '127.0.0.1', String(server.address.port)], { input: 'hello, udp' });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.toString(), 'hello, udp');
  const line = '00000000  68 65 6c 6c 6f 2c 20 75  64 70                    |hello, udp|';
  assert.equal(result.stderr, `#${server.url} > 10 bytes\n${line}\n#${server.url} < 10 bytes\n${line}\n`);
});
