// `--unix` end to end: the built executable as server, client and bench, real signals and exit codes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchResult } from '../../src/bench/index.js';
import { echoRoundTrip } from '../../src/index.js';
import { runCli, spawnServer } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { within } from '../helpers/timeout.js';
import { abstractName, socketDir } from '../helpers/unix.js';

/** One line on stderr, starting `tcpecho: `, no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, /^tcpecho: /);
  assert.match(lines[0] as string, pattern);
}

for (const [mode, extra] of [['event', []], ['fork', ['--spare', '1']], ['cluster', ['--workers', '2', '--balance', 'shared']]] as const) {
  test(`server --unix, ${mode} mode: the ready line, log lines naming unix, the file removed on SIGTERM (exit 0)`, async (t) => {
    const path = join(socketDir(t), 'cli.sock');
    const server = await spawnServer(t, ['--mode', mode, ...extra], { unix: path });
    assert.equal(server.lines[0], `tcpecho listening on unix:${path} (mode ${mode})`);
    const data = randomBytes(100_000);
    assert.ok((await echoRoundTrip(data, { unix: path })).equals(data));
    await server.waitForLine(/ open #\d+ unix( pid=\d+)?$/);
    await server.waitForLine(/ close #\d+ unix( pid=\d+)? bytes=100000 duration=[\d.]+ms reason=eof$/);
    assert.ok(lstatSync(path).isSocket());
    server.child.kill('SIGTERM');
    const [code] = (await within(once(server.child, 'exit'), 15_000, 'the server to exit')) as [number | null];
    assert.equal(code, 0);
    assert.equal(existsSync(path), false, 'the socket file is still there after SIGTERM');
  });
}

test('server --unix on a live socket: one line naming EADDRINUSE, exit 1; the live server keeps serving', async (t) => {
  const path = join(socketDir(t), 'live.sock');
  await startTestServer(t, { unix: path });
  const result = await runCli(['server', '--unix', path]);
  assert.equal(result.code, 1);
  assertOneLine(result.stderr, /another server is listening on it \(EADDRINUSE\)/);
  assert.ok((await echoRoundTrip(Buffer.from('ok'), { unix: path })).equals(Buffer.from('ok')));
});

test('server --unix on a regular file: one line, exit 1, the file untouched', async (t) => {
  const path = join(socketDir(t), 'data.txt');
  writeFileSync(path, 'precious');
  const result = await runCli(['server', '--unix', path]);
  assert.equal(result.code, 1);
  assertOneLine(result.stderr, /exists and is not a socket/);
  assert.equal(readFileSync(path, 'utf8'), 'precious');
});

test('server --unix-mode 0600 sets the socket file permissions', async (t) => {
  const path = join(socketDir(t), 'mode.sock');
  await spawnServer(t, ['--unix-mode', '0600'], { unix: path });
  assert.equal(statSync(path).mode & 0o7777, 0o600);
});

for (const [name, args] of [
  ['server --unix with --port', ['server', '--unix', '/tmp/x.sock', '--port', '9000']],
  ['server --unix with a PORT argument', ['server', '--unix', '/tmp/x.sock', '9000']],
  ['server --unix with --host', ['server', '--unix', '/tmp/x.sock', '--host', '127.0.0.1']],
  ['server --unix with -4', ['server', '--unix', '/tmp/x.sock', '-4']],
  ['server --unix with -6', ['server', '--unix', '/tmp/x.sock', '-6']],
  ['server --unix-mode without --unix', ['server', '--unix-mode', '0600']],
  ['server --unix-mode 0999', ['server', '--unix', '/tmp/x.sock', '--unix-mode', '0999']],
  ['server --unix-mode on an abstract name', ['server', '--unix', '@x', '--unix-mode', '0600']],
  ['server --unix with a path too long', ['server', '--unix', `/tmp/${'p'.repeat(120)}`]],
  ['client --unix with a HOST', ['client', '--unix', '/tmp/x.sock', '127.0.0.1']],
  ['client --unix with -6', ['client', '--unix', '/tmp/x.sock', '-6']],
  ['bench --unix with a PORT', ['bench', '--unix', '/tmp/x.sock', '7007']],
] as const) {
  test(`${name} is a usage error: one line, exit 2`, async () => {
    const result = await runCli([...args]);
    assert.equal(result.code, 2, result.stderr);
    assertOneLine(result.stderr, /./);
  });
}

test('client --unix, piped: every byte back on stdout, exit 0; over an abstract name too', async (t) => {
  const path = join(socketDir(t), 'client.sock');
  const name = abstractName();
  await startTestServer(t, { unix: path });
  await startTestServer(t, { mode: 'cluster', workers: 1, unix: name });
  for (const where of [path, name]) {
    const data = randomBytes(2 * 1024 * 1024);
    const result = await runCli(['client', '--unix', where, '-v'], { input: data });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.equals(data), `the echo through ${where} differs`);
    assert.match(result.stderr, new RegExp(`^Connected to unix:${where}\\n`));
  }
});

test('client --unix with no socket there: one line, exit 1', async (t) => {
  const path = join(socketDir(t), 'none.sock');
  const result = await runCli(['client', '--unix', path], { input: 'x' });
  assert.equal(result.code, 1);
  assertOneLine(result.stderr, new RegExp(`Cannot connect to unix:${path}: no such socket`));
});

test('bench --unix: pingpong, stream (2 threads) and connect modes verify every byte, exit 0', async (t) => {
  const path = join(socketDir(t), 'bench.sock');
  await startTestServer(t, { unix: path });
  for (const args of [['-m', 'pingpong', '-c', '4', '-n', '2000'], ['-m', 'stream', '-c', '2', '-s', '64k', '-n', '500', '--threads', '2'], ['-m', 'connect', '-c', '2', '-n', '100']]) {
    const result = await runCli(['bench', '--unix', path, ...args, '--warmup', '0', '--json'], { timeoutMs: 30_000 });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.toString()) as BenchResult;
    assert.equal(report.target, `unix:${path}`);
    assert.equal(report.errorTotal, 0);
    assert.ok(report.messages >= 100, `${args.join(' ')}: ${report.messages} messages`);
  }
});
