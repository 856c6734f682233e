// The library's server side: startEchoServer's options, defaults, errors and lifecycle.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SERVER_MODES, startEchoServer, type EchoServer } from '../../src/index.js';
import { collect } from '../helpers/cli.js';
import { closedByPeer, connectTo, echoOf, readExactly } from '../helpers/echo.js';
import { childrenOf, isRunning } from '../helpers/process.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const INDEX = fileURLToPath(new URL('../../src/index.js', import.meta.url));

/** A port some other socket holds, released when the test ends. */
async function portInUse(t: TestContext): Promise<number> {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await within(once(blocker, 'listening'), 5000, 'blocker listening');
  t.after(() => blocker.close());
  return (blocker.address() as net.AddressInfo).port;
}

test('no options: event mode on a free port of 127.0.0.1', async (t) => {
  const server = await startTestServer(t);
  assert.equal(server.mode, 'event');
  assert.equal(server.address.host, '127.0.0.1');
  assert.ok(server.address.port > 0);
  assert.equal((await echoOf(server.address.port, Buffer.from('up'))).toString(), 'up');
});

test("host '*' listens on every interface, IPv4 and IPv6", async (t) => {
  const server = await startTestServer(t, { host: '*' });
  assert.equal(server.address.host, '::');
  assert.equal((await echoOf(server.address.port, Buffer.from('v4'))).toString(), 'v4');
  const v6 = await connectTo(server.address.port, '::1');
  t.after(() => v6.destroy());
  v6.write('v6');
  assert.equal((await within(readExactly(v6, 2), 5000, 'echo over ::1')).toString(), 'v6');
});

test('invalid options reject with TCPECHO_ERR_USAGE before listening', async () => {
  for (const options of [{ port: -1 }, { port: 1.5 }, { port: 65536 }, { maxChildren: 0 }, { mode: 'threads' as 'event' }]) {
    await assert.rejects(within(startEchoServer(options), 5000, 'start'), { code: 'TCPECHO_ERR_USAGE' }, JSON.stringify(options));
  }
});

/** Two workers in cluster mode (the option is a usage error in the others). */
function workersFor(mode: string): { workers?: number } {
  return mode === 'cluster' ? { workers: 2 } : {};
}

for (const mode of SERVER_MODES) {
  test(`${mode} mode: a port in use rejects with TCPECHO_ERR_ADDRESS_IN_USE and leaves no process behind`, async (t) => {
    const port = await portInUse(t);
    await assert.rejects(within(startEchoServer({ mode, port, ...workersFor(mode) }), 20_000, 'start'), { code: 'TCPECHO_ERR_ADDRESS_IN_USE' });
    assert.deepEqual(childrenOf(process.pid), [], 'no child process of ours is left');
  });

  test(`${mode} mode: after a failed start, nothing keeps the caller's process alive`, async (t) => {
    const port = await portInUse(t);
    const script = `import { startEchoServer } from ${JSON.stringify(INDEX)};
      startEchoServer({ mode: ${JSON.stringify(mode)}, host: '127.0.0.1', port: ${port}${mode === 'cluster' ? ', workers: 2' : ''} }).catch((err) => console.log(err.code));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    // The process has nothing left to do once the start has failed: it must exit by itself.
    const result = await collect(child, undefined, 10_000, `a ${mode}-mode start on a port in use`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'TCPECHO_ERR_ADDRESS_IN_USE\n');
  });
}

test('cluster mode: workers that exit before they are ready fail the start with TCPECHO_ERR_WORKER_START; nothing is left', async (t) => {
  // Every worker dies at once: NODE_OPTIONS, inherited by the workers, preloads a file that exits.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcpecho-die-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const die = path.join(dir, 'die.cjs');
  writeFileSync(die, 'process.exit(3);\n');
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `--require ${die}`;
  try {
    await assert.rejects(within(startEchoServer({ mode: 'cluster', workers: 2 }), 20_000, 'cluster start'), { code: 'TCPECHO_ERR_WORKER_START' });
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  assert.deepEqual(childrenOf(process.pid), [], 'no worker is left');
});

/** A server with one client served, and the pids of every process it has. */
async function busyServer(t: TestContext, options: Parameters<typeof startEchoServer>[0]): Promise<{ server: EchoServer; pids: number[]; client: net.Socket }> {
  const server = await startTestServer(t, options);
  const client = await connectTo(server.address.port);
  t.after(() => client.destroy());
  client.on('error', () => {});
  client.write('hi');
  await within(readExactly(client, 2), 10_000, 'first echo');
  if (server.mode === 'fork') await until(() => server.sparePids.length === 2, 10_000, 'two spares');
  const pids = childrenOf(process.pid);
  return { server, pids, client };
}

for (const mode of ['fork', 'cluster'] as const) {
  test(`${mode} mode: destroy() resolves once every child and worker has exited, then 'close' has been emitted once`, async (t) => {
    const { server, pids } = await busyServer(t, { mode, ...workersFor(mode) });
    assert.ok(pids.length >= 2, `processes: ${pids.join(',')}`);
    let closes = 0;
    server.on('close', () => closes++);
    const destroyed = server.destroy();
    assert.equal(server.destroy(), destroyed, 'a second call gets the same promise');
    await within(destroyed, 10_000, 'destroy()');
    for (const pid of pids) assert.equal(isRunning(pid), false, `pid ${pid} still running`);
    assert.deepEqual(childrenOf(process.pid), []);
    assert.equal(closes, 1);
  });
}

for (const mode of SERVER_MODES) {
  test(`${mode} mode: destroy() during a drain cuts it short; close({ force: true }) does the same`, async (t) => {
    const { server, client } = await busyServer(t, { mode, ...workersFor(mode), drainTimeoutMs: 60_000 });
    const gone = closedByPeer(client);
    const draining = server.close();
    await within(server.destroy(), 10_000, 'destroy() during close()');
    await within(draining, 1000, 'close() ends with the destroy');
    await within(gone, 5000, 'the client sees the close');
    assert.deepEqual(childrenOf(process.pid), []);

    const second = await busyServer(t, { mode, ...workersFor(mode), drainTimeoutMs: 60_000 });
    await within(second.server.close({ force: true }), 10_000, 'close({ force: true })');
    assert.deepEqual(childrenOf(process.pid), []);
  });

  test(`${mode} mode: [Symbol.asyncDispose] is the fast path: it does not wait out the drain`, async (t) => {
    // The default drain of 5 s, and a client that never leaves.
    const { server } = await busyServer(t, { mode, ...workersFor(mode) });
    await within(server[Symbol.asyncDispose](), 3000, 'asyncDispose with a connection open');
    assert.deepEqual(childrenOf(process.pid), []);
  });
}

test('close() and destroy() are safe to call twice', async () => {
  const server = await within(startEchoServer(), 5000, 'start');
  const first = server.close();
  assert.equal(server.close(), first);
  await within(first, 5000, 'close()');
  await within(server.destroy(), 5000, 'destroy() after close()');
  await within(server.destroy(), 5000, 'destroy() again');
});

test('fork and cluster: a top-level await of destroy() after an echo always lets the process exit 0 (20 runs each, 4 at a time)', async () => {
  // Between a child's exit and its IPC channel's close Node may hold no ref'd handle: unless the
  // shutdown holds the loop, the script ends under its own await with exit code 13.
  for (const mode of ['fork', 'cluster'] as const) {
    const options = mode === 'fork' ? '{ mode: "fork", spare: 1 }' : '{ mode: "cluster", workers: 1 }';
    const script = `import { startEchoServer, echoRoundTrip } from ${JSON.stringify(INDEX)};
      const server = await startEchoServer(${options});
      await echoRoundTrip(Buffer.alloc(100_000, 1), { port: server.address.port, timeoutMs: 10_000 });
      await server.destroy();`;
    const codes: Array<number | null> = [];
    for (let batch = 0; batch < 5; batch++) {
      const runs = Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
        return collect(child, undefined, 20_000, `a ${mode}-mode script`).then((result) => result.code);
      });
      codes.push(...(await Promise.all(runs)));
    }
    assert.deepEqual(codes.filter((code) => code !== 0), [], `${mode}: exit codes ${codes.join(' ')}`);
  }
});
