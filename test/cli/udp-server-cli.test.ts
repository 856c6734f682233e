// `tcpecho server --udp`, the built CLI end to end.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { runCli, spawnServer } from '../helpers/cli.js';
import { within } from '../helpers/timeout.js';
import { collectCount, roundTrip, udpSocket } from '../helpers/udp.js';

test('server --udp: the ready line says udp; SIGTERM stops at once with the summary, exit 0', async (t) => {
  const server = await spawnServer(t, ['--udp']);
  assert.match(server.lines[0] ?? '', /^tcpecho listening on 127\.0\.0\.1:\d+ \(mode event, udp\)$/);
  const socket = await udpSocket(t);
  assert.equal((await roundTrip(socket, server.port, Buffer.from('ping')))?.toString(), 'ping');
  server.child.kill('SIGTERM');
  const [code] = await within(once(server.child, 'exit'), 5000, 'the server to exit');
  assert.equal(code, 0);
  assert.match(server.lines.join('\n'), /received SIGTERM: stopped; echoed 1 datagram\(s\) \(4 bytes\); dropped 0: reflection-port 0, rate 0, denied 0, send-queue 0, delay-queue 0; received 1/);
});

test('server --udp logs a source once when first seen and when forgotten, never once per datagram; a drop at most once a second', async (t) => {
  const server = await spawnServer(t, ['--udp', '--idle-timeout', '0.3']);
  const socket = await udpSocket(t);
  const got = collectCount(socket, 50, 5000);
  for (let i = 0; i < 50; i++) socket.send(Buffer.from(`d${i}`), server.port, '127.0.0.1');
  assert.equal((await got).length, 50);
  const forget = await server.waitForLine(/ forget 127\.0\.0\.1 /, 5000);
  assert.match(forget, /reason=idle datagrams=50 bytes=140 dropped=0$/);
  const echoPort = await udpSocket(t, '127.0.0.1', 7);
  for (let i = 0; i < 50; i++) echoPort.send(Buffer.from('x'), server.port, '127.0.0.1');
  await server.waitForLine(/ drop 127\.0\.0\.1:7 reason=reflection-port dropped=1$/);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(server.lines.filter((line) => / source 127\.0\.0\.1:/.test(line)).length, 2, server.lines.join('\n'));
  assert.equal(server.lines.filter((line) => / drop /.test(line)).length, 1);
});

test('server --udp --hexdump: each datagram as a `#SOURCE < N bytes` header and hexdump -C lines, its echo as `>`', async (t) => {
  const server = await spawnServer(t, ['--udp', '--hexdump', '-q']);
  const socket = await udpSocket(t);
  await roundTrip(socket, server.port, Buffer.from('hello, udp'));
  const from = `127.0.0.1:${socket.address().port}`;
  await server.waitForLine(new RegExp(`^#${from} > 10 bytes$`));
  const at = server.lines.indexOf(`#${from} < 10 bytes`);
  assert.notEqual(at, -1, server.lines.join('\n'));
  assert.equal(server.lines[at + 1], '00000000  68 65 6c 6c 6f 2c 20 75  64 70                    |hello, udp|');
});

test('usage errors with --udp: fork, cluster, TCP-only options, UDP-only options without it; one line, exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['server', '--udp', '-m', 'fork'], /`--mode fork` does not apply with `--udp`, which has `--mode event` only/],
    [['server', '--udp', '-m', 'cluster'], /`--mode cluster` does not apply with `--udp`/],
    [['server', '--udp', '--tls'], /`--tls` does not apply with `--udp`/],
    [['server', '--udp', '--max-connections', '5'], /`--max-connections` does not apply with `--udp`/],
    [['server', '--udp-rate', '5'], /`--udp-rate` applies with `--udp` only/],
    [['client', '--retries', '2', '127.0.0.1', '9'], /`--retries` applies with `--udp` only/],
    [['bench', '--udp', '-m', 'stream'], /`--mode stream` does not apply with `--udp`/],
    [['bench', '--udp', '--threads', '2'], /`--threads` does not apply with `--udp`/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { timeoutMs: 10_000 });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});
