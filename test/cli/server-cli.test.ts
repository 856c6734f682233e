// `tcpecho server` end to end: the built executable, real signals, real exit codes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CLI, runCli, spawnServer } from '../helpers/cli.js';
import { closedByPeer, connectTo, endWithEcho, readExactly } from '../helpers/echo.js';
import { childrenOf, isRunning } from '../helpers/process.js';
import { freePort } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const BAD_VALUES: Array<[string, string[]]> = [
  ['--port 70000', ['--port', '70000']],
  ['--port 65536', ['--port', '65536']],
  ['--port 80.5', ['--port', '80.5']],
  ['--port abc', ['--port', 'abc']],
  ['--port 8080abc', ['--port', '8080abc']],
  ['--port -1', ['--port=-1']],
  ['--port 1e3', ['--port', '1e3']],
  ['--port 0x1F90', ['--port', '0x1F90']],
  ['--port ""', ['--port', '']],
  ['--mode bogus', ['--mode', 'bogus']],
  ['--max-children 0', ['--max-children', '0']],
  ['--drain-timeout soon', ['--drain-timeout', 'soon']],
  ['an unknown option', ['--bogus']],
  ['a stray argument', ['extra']],
];

for (const [name, args] of BAD_VALUES) {
  test(`server: ${name} is a usage error: one line, exit 2`, async () => {
    const result = await runCli(['server', ...args]);
    assert.equal(result.code, 2);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] as string, /^tcpecho: /);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('an unknown command is a usage error', async () => {
  const result = await runCli(['serve']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Unknown command `serve`/);
});

test('--help and --version on the tool and each subcommand', async () => {
  for (const args of [['--help'], ['server', '--help'], ['client', '--help']]) {
    const result = await runCli(args);
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /^Usage: tcpecho/);
  }
  for (const args of [['--version'], ['server', '--version'], ['client', '-V']]) {
    const result = await runCli(args);
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /^\d+\.\d+\.\d+\n$/);
  }
});

test('a port in use: one line naming EADDRINUSE, exit 1', async (t) => {
  const blocker = net.createServer();
  blocker.listen(0, '127.0.0.1');
  await within(once(blocker, 'listening'), 5000, 'blocker listening');
  t.after(() => blocker.close());
  const { port } = blocker.address() as net.AddressInfo;
  const result = await runCli(['server', '--host', '127.0.0.1', '--port', String(port)]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trimEnd().split('\n').length, 1);
  assert.match(result.stderr, /address already in use \(EADDRINUSE\)/);
});

// Binding port 80 as uid 65534 ("nobody") is refused by the kernel with EACCES.
const canDropPrivileges = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;

test('a privileged port as a non-root user: one line naming EACCES, exit 1', { skip: !canDropPrivileges && 'needs root and setpriv' }, (t) => {
  const result = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'server', '--host', '127.0.0.1', '--port', '80'],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (/Cannot find module|EACCES: permission denied, open/.test(result.stderr)) {
    t.skip('the checkout is not readable by uid 65534');
    return;
  }
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, /permission denied \(EACCES\)/);
});

test('the ready line names the real host, port and mode', async (t) => {
  const server = await spawnServer(t, ['--mode', 'fork']);
  assert.ok(server.port > 0);
  assert.equal(server.lines[0], `tcpecho listening on 127.0.0.1:${server.port} (mode fork)`);
});

test('IPv6 addresses are shown in brackets', async (t) => {
  const server = await spawnServer(t, ['--host', '::1']);
  assert.match(server.lines[0] as string, /^tcpecho listening on \[::1\]:\d+ \(mode event\)$/);
});

test('logs one line when a connection opens and one when it closes', async (t) => {
  const server = await spawnServer(t);
  const socket = await connectTo(server.port);
  await endWithEcho(socket, randomBytes(1000), 5000, 'echo');
  await server.waitForLine(/ open #1 127\.0\.0\.1:\d+$/);
  await server.waitForLine(/ close #1 127\.0\.0\.1:\d+ bytes=1000 duration=[\d.]+ms reason=eof$/);
});

test('a connection past --max-connections is logged as a reject, even with --quiet', async (t) => {
  const server = await spawnServer(t, ['--max-connections', '1', '--quiet']);
  const first = await connectTo(server.port);
  t.after(() => first.destroy());
  first.write('x');
  await within(readExactly(first, 1), 5000, 'first echo');
  const second = await connectTo(server.port);
  second.on('error', () => {});
  await within(closedByPeer(second), 5000, 'the second closed at once');
  await server.waitForLine(/ reject 127\.0\.0\.1:\d+ reason=max-connections rejected=1$/);
});

test('--quiet silences the per-connection lines', async (t) => {
  const server = await spawnServer(t, ['--quiet']);
  const socket = await connectTo(server.port);
  await endWithEcho(socket, 'hi', 5000, 'echo');
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await within(exited, 5000, 'exit');
  assert.equal(server.lines.filter((line) => / (open|close) #/.test(line)).length, 0, server.lines.join('\n'));
});

for (const mode of ['event', 'fork'] as const) {
  test(`${mode} mode: SIGTERM lets an open connection finish, then exits 0`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode, '--drain-timeout', '10']);
    const socket = await connectTo(server.port);
    t.after(() => socket.destroy());
    socket.write('before');
    await within(readExactly(socket, 6), 10_000, 'first echo');
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    await server.waitForLine(/received SIGTERM/);
    await assert.rejects(connectTo(server.port), { code: 'ECONNREFUSED' });
    const data = randomBytes(100_000);
    assert.ok((await endWithEcho(socket, data, 5000, 'echo during the drain')).equals(data));
    const [code] = await within(exited, 5000, 'server exit after the last connection');
    assert.equal(code, 0);
  });
}

for (const mode of ['event', 'fork', 'cluster'] as const) {
  const children = mode === 'event' ? '' : mode === 'fork' ? ', ends every child (spares too)' : ', ends every worker';
  test(`${mode} mode: SIGTERM closes what is still open at --drain-timeout${children}, exits 0`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode, '--drain-timeout', '0.3', ...(mode === 'cluster' ? ['--workers', '2'] : [])]);
    const socket = await connectTo(server.port);
    t.after(() => socket.destroy());
    socket.on('error', () => {});
    socket.write('x');
    await within(readExactly(socket, 1), 10_000, 'first echo');
    // Fork: the child serving the client and two spares; cluster: the two workers.
    const expected = mode === 'event' ? 0 : mode === 'fork' ? 3 : 2;
    await until(() => childrenOf(server.child.pid as number).length === expected, 10_000, () => `${expected} children (now ${childrenOf(server.child.pid as number).join(',')})`);
    const pids = childrenOf(server.child.pid as number);
    const gone = closedByPeer(socket);
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    const [code] = await within(exited, 5000, 'server exit at the deadline');
    assert.equal(code, 0);
    await within(gone, 5000, 'the client sees its connection closed');
    for (const pid of pids) assert.equal(isRunning(pid), false, `pid ${pid} outlived the server`);
  });
}

test('on a dual-stack listener, IPv4 clients are logged as 127.0.0.1, not ::ffff:127.0.0.1', async (t) => {
  const server = await spawnServer(t, ['--host', '*']);
  assert.match(server.lines[0] as string, /listening on \[::\]:\d+ \(mode event\)/);
  const socket = await connectTo(server.port, '127.0.0.1');
  const line = await server.waitForLine(/ open #1 /);
  assert.match(line, new RegExp(` open #1 127\\.0\\.0\\.1:${socket.localPort}$`));
  socket.destroy();
});

test('a lone number is the port, and HOST:PORT names both (nc habits)', async (t) => {
  const port = await freePort();
  for (const target of [`127.0.0.1:${port}`, `[::1]:${port}`]) {
    const child = spawn(process.execPath, [CLI, 'server', target], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await within(new Promise<void>((resolve) => child.stderr.on('data', () => text.includes('\n') && resolve())), 10_000, `server ${target}`);
    assert.match(text, new RegExp(`^tcpecho listening on ${target.replace(/[[\]]/g, '\\$&')} \\(mode event\\)`));
    child.kill('SIGTERM');
    await within(once(child, 'exit'), 10_000, 'exit');
  }
  const result = await runCli(['server', String(port), '--port', '1']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Give the port either as an argument or with `--port`, not both/);
});

test('a flag before the command is one line naming the command it needs', async () => {
  const result = await runCli(['-p', '9000']);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'tcpecho: Expected a command before `-p`: one of server, client, bench, ping (as in `tcpecho server -p 9000`)\n');
});

/** Resolves true when a connection to host:port is accepted, false when it is refused. */
async function accepts(host: string, port: number): Promise<boolean> {
  const socket = net.connect({ host, port });
  try {
    await within(once(socket, 'connect'), 5000, `connect to ${host}:${port}`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ECONNREFUSED') return false;
    throw err;
  } finally {
    socket.destroy();
  }
}

test('server -4 listens on every IPv4 interface only, -6 on IPv6 only (nc habits)', async (t) => {
  const four = await spawnServer(t, ['--host', '*', '-4']);
  assert.match(four.lines[0] as string, /listening on 0\.0\.0\.0:\d+ /);
  assert.equal(await accepts('127.0.0.1', four.port), true);
  assert.equal(await accepts('::1', four.port), false);
  const six = await spawnServer(t, ['--host', '*', '-6']);
  assert.match(six.lines[0] as string, /listening on \[::\]:\d+ /);
  assert.equal(await accepts('::1', six.port), true);
  assert.equal(await accepts('127.0.0.1', six.port), false);
  const mixed = await runCli(['server', '-6', '-H', '127.0.0.1']);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /Expected an IPv6 address with `-6`, got `127\.0\.0\.1`/);
});
