// The load generator's correctness: zero errors against the real server, the right error kinds
// against deliberately faulty ones, echoes split or merged in any way handled. Timings are the
// benchmark's business, not the tests'.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { test, type TestContext } from 'node:test';
import { runBench, type BenchOptions, type BenchResult } from '../../src/bench/index.js';
import type { ConnectionClose } from '../../src/index.js';
import { streamWindow } from '../../src/bench/stream.js';
import { CLI, collect, runCli } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

/**
 * runBench within `ms`: past it the test fails, and the run is aborted so that it does not keep
 * the test process alive.
 */
async function bench(options: BenchOptions, ms = 30_000): Promise<BenchResult> {
  const stop = new AbortController();
  try {
    return await within(runBench({ ...options, signal: stop.signal }), ms, `runBench ${JSON.stringify(options)}`);
  } finally {
    stop.abort();
  }
}

/** A short run: no warm-up, half a second, a quick timeout. */
const QUICK: BenchOptions = { host: '127.0.0.1', warmupMs: 0, durationMs: 500, timeoutMs: 1000, connections: 4, size: 512 };

/** A loopback server with custom (faulty) echo behaviour. */
async function faultyServer(t: TestContext, onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), 5000, 'server listening');
  t.after(() => {
    server.close();
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  t.after(() => sockets.forEach((s) => s.destroy()));
  return (server.address() as net.AddressInfo).port;
}

/** Echoes faithfully, but transforms each chunk once `after` bytes have passed. */
function echoWith(transform: (chunk: Buffer, position: number) => Buffer | 'close' | 'reset' | 'drop') {
  return (socket: net.Socket) => {
    let position = 0;
    socket.on('data', (chunk: Buffer) => {
      const out = transform(chunk, position);
      position += chunk.length;
      if (out === 'close') socket.end();
      else if (out === 'reset') socket.resetAndDestroy();
      else if (out !== 'drop') socket.write(out);
    });
    socket.on('end', () => socket.end());
  };
}

function assertOnly(result: BenchResult, kind: keyof BenchResult['errors']): void {
  assert.ok(result.errors[kind] > 0, `expected ${kind} errors, got ${JSON.stringify(result.errors)}`);
  assert.equal(result.errorTotal, result.errors[kind], `other kinds too: ${JSON.stringify(result.errors)}`);
}

for (const mode of ['pingpong', 'stream', 'connect'] as const) {
  test(`${mode}: zero errors against the real server, with figures`, async (t) => {
    const server = await startTestServer(t);
    const result = await bench({ ...QUICK, port: server.address.port, mode, size: mode === 'stream' ? 65536 : 1024 });
    assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
    assert.ok(result.messages > 0);
    assert.ok(result.messagesPerS > 0 && result.mibPerS > 0);
    assert.ok(result.latencyUs.min > 0 && result.latencyUs.min <= result.latencyUs.p50);
    assert.ok(result.latencyUs.p50 <= result.latencyUs.p99 && result.latencyUs.p99 <= result.latencyUs.max);
    const cpu = result.cpuPercent.user + result.cpuPercent.system;
    assert.ok(cpu > 0 && cpu < 400, `generator CPU ${cpu}%`);
    if (mode === 'connect') assert.ok(result.connectionsPerS > 0);
  });
}

for (const mode of ['pingpong', 'stream', 'connect'] as const) {
  test(`${mode} over 2 threads: every connection runs, the threads' figures add up, zero errors`, async (t) => {
    const server = await startTestServer(t);
    const closed: ConnectionClose[] = [];
    server.on('disconnect', (info) => closed.push(info));
    const size = mode === 'stream' ? 65536 : 1024;
    const result = await bench({ ...QUICK, port: server.address.port, mode, size, connections: 5, threads: 2 });
    assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
    assert.equal(result.connections, 5);
    assert.ok(result.messages > 0 && result.messagesPerS > 0);
    assert.ok(result.cpuPercent.user + result.cpuPercent.system > 0, JSON.stringify(result.cpuPercent));
    assert.ok(result.latencyUs.min > 0 && result.latencyUs.p50 <= result.latencyUs.p99 && result.latencyUs.p99 <= result.latencyUs.max);
    if (mode !== 'connect') {
      // All five connections, spread 3 + 2 over the threads, echoed more than their first message.
      await until(() => closed.length === 5, 5000, () => `five closes (${closed.length})`);
      for (const info of closed) assert.ok(info.bytesWritten > size, `a connection echoed only ${info.bytesWritten} bytes`);
    } else {
      assert.ok(result.connectionsPerS > 0);
    }
  });
}

test('threads that have reported end by themselves: none is terminated', async (t) => {
  // Terminating a bench thread mid-flight made Node 20 abort the whole process now and then
  // (src/bench/threads.ts). Count the terminate() calls a successful threaded run makes.
  const server = await startTestServer(t);
  const terminate = Worker.prototype.terminate;
  let terminated = 0;
  Worker.prototype.terminate = function (this: Worker) {
    terminated++;
    return terminate.call(this);
  };
  t.after(() => {
    Worker.prototype.terminate = terminate;
  });
  for (const mode of ['pingpong', 'stream'] as const) {
    const result = await bench({ ...QUICK, port: server.address.port, mode, size: mode === 'stream' ? 65536 : 1024, connections: 4, threads: 2 });
    assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  }
  assert.equal(terminated, 0, 'a thread was terminated instead of ending by itself');
});

test('--messages over 2 threads: each thread runs its half, and the halves add up', async (t) => {
  const server = await startTestServer(t);
  const result = await bench({ ...QUICK, port: server.address.port, messages: 20_000, durationMs: 60_000, threads: 2 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  // Each thread stops at its 10,000 (checked every 5 ms, so a little past it); one thread's
  // figures lost in the merge would leave about half.
  assert.ok(result.messages >= 20_000 && result.messages < 30_000, `${result.messages} messages`);
});

test('errors found by every thread are counted: a server that drops a byte, over 2 threads', async (t) => {
  const port = await faultyServer(t, echoWith((chunk, pos) => (pos <= 5000 && pos + chunk.length > 5000 && chunk.length > 1 ? Buffer.concat([chunk.subarray(0, 1), chunk.subarray(2)]) : chunk)));
  const result = await bench({ ...QUICK, port, threads: 2 });
  assertOnly(result, 'mismatch');
  // Every connection of both threads meets the dropped byte once.
  assert.equal(result.errors.mismatch, QUICK.connections);
});

test('pingpong with --pipeline 8 and --messages stops after the count, error-free', async (t) => {
  const server = await startTestServer(t);
  const result = await bench({ ...QUICK, port: server.address.port, pipeline: 8, messages: 2000, durationMs: 60_000 });
  assert.equal(result.errorTotal, 0);
  assert.ok(result.messages >= 2000, `${result.messages}`);
  assert.ok(result.durationS < 30);
});

test('pingpong with one connection writes at once (no batch): error-free, and an early close is still a short echo', async (t) => {
  const server = await startTestServer(t);
  const good = await bench({ ...QUICK, port: server.address.port, connections: 1 });
  assert.equal(good.errorTotal, 0, JSON.stringify(good.errorSamples));
  assert.ok(good.messages > 0);
  const port = await faultyServer(t, echoWith((chunk, pos) => (pos > 20_000 ? 'close' : chunk)));
  assertOnly(await bench({ ...QUICK, port, connections: 1 }), 'short');
});

test('connect mode with a rate: arrivals paced by the clock, error-free', async (t) => {
  const server = await startTestServer(t);
  let opened = 0;
  server.on('connection', () => opened++);
  const result = await bench({ ...QUICK, port: server.address.port, mode: 'connect', rate: 20, durationMs: 1000, connections: 8 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  // 20 a second for a second: paced, not as fast as the server allows (thousands).
  assert.ok(result.messages >= 5 && result.messages <= 40, `${result.messages} arrivals`);
  assert.ok(opened <= 60, `${opened} connections opened in all`);
});

test('echoes split into tiny separate writes are handled', async (t) => {
  const port = await faultyServer(t, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i += 7) socket.write(chunk.subarray(i, i + 7));
    });
    socket.on('end', () => socket.end());
  });
  const result = await bench({ ...QUICK, port, size: 300 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  assert.ok(result.messages > 0);
});

test('echoes of several messages merged into one write are handled', async (t) => {
  const port = await faultyServer(t, (socket) => {
    let pending: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      if (pending.length === 0) {
        setTimeout(() => {
          socket.write(Buffer.concat(pending));
          pending = [];
        }, 2);
      }
      pending.push(chunk);
    });
    socket.on('end', () => setTimeout(() => socket.end(), 5));
  });
  const result = await bench({ ...QUICK, port, pipeline: 4 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  assert.ok(result.messages > 0);
});

for (const mode of ['pingpong', 'stream'] as const) {
  test(`${mode}: a server that drops a byte is caught as a mismatch`, async (t) => {
    const port = await faultyServer(t, echoWith((chunk, pos) => (pos <= 5000 && pos + chunk.length > 5000 && chunk.length > 1 ? Buffer.concat([chunk.subarray(0, 1), chunk.subarray(2)]) : chunk)));
    assertOnly(await bench({ ...QUICK, port, mode }), 'mismatch');
  });

  test(`${mode}: a server that reorders bytes is caught as a mismatch`, async (t) => {
    const port = await faultyServer(t, echoWith((chunk, pos) => {
      if (pos > 3000 || chunk.length < 2) return chunk;
      const swapped = Buffer.from(chunk);
      [swapped[0], swapped[1]] = [chunk[1] as number, chunk[0] as number];
      return swapped.equals(chunk) ? Buffer.from(chunk.map((b) => b ^ 0xff)) : swapped;
    }));
    assertOnly(await bench({ ...QUICK, port, mode }), 'mismatch');
  });

  test(`${mode}: a server that closes early is caught as a short echo`, async (t) => {
    const port = await faultyServer(t, echoWith((chunk, pos) => (pos > 20_000 ? 'close' : chunk)));
    assertOnly(await bench({ ...QUICK, port, mode }), 'short');
  });

  test(`${mode}: a server that resets is caught as a reset`, async (t) => {
    const port = await faultyServer(t, echoWith((chunk, pos) => (pos > 20_000 ? 'reset' : chunk)));
    assertOnly(await bench({ ...QUICK, port, mode }), 'reset');
  });
}

for (const size of [65536, 131072]) {
  test(`stream mode keeps at most its window of bytes unechoed per connection (${size / 1024} KiB writes)`, async (t) => {
    // A server that reads everything and echoes nothing: the generator must stop at its window
    // instead of filling every kernel buffer on the way (which made loopback drop segments).
    let received = 0;
    const port = await faultyServer(t, (socket) => socket.on('data', (chunk: Buffer) => (received += chunk.length)));
    const result = await bench({ ...QUICK, port, mode: 'stream', connections: 1, size, durationMs: 300, timeoutMs: 1000 });
    assertOnly(result, 'timeout');
    const window = streamWindow(size);
    // 256 KiB, or four writes when they are larger.
    assert.equal(window, size === 65536 ? 256 * 1024 : 512 * 1024);
    assert.ok(received <= window, `the server read ${received} bytes`);
    assert.ok(received > window / 2, `the server read only ${received} bytes`);
  });
}

test('a server that stops echoing is caught as a timeout', async (t) => {
  const port = await faultyServer(t, echoWith((chunk, pos) => (pos > 10_000 ? 'drop' : chunk)));
  assertOnly(await bench({ ...QUICK, port, timeoutMs: 300 }), 'timeout');
});

test('a server that never answers our half-close with a FIN is caught as no-fin', async (t) => {
  const port = await faultyServer(t, (socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk)));
  assertOnly(await bench({ ...QUICK, port, timeoutMs: 300 }), 'no-fin');
});

test('with a message count, the run ends once every connection has failed (pingpong: reset, connect mode: short)', async (t) => {
  // The count can no longer be reached: without an end the run waited for it forever.
  const resets = await faultyServer(t, echoWith((chunk, pos) => (pos > 20_000 ? 'reset' : chunk)));
  assertOnly(await bench({ ...QUICK, port: resets, messages: 1e9 }, 15_000), 'reset');
  const closes = await faultyServer(t, (socket) => socket.once('data', () => socket.end()));
  assertOnly(await bench({ ...QUICK, port: closes, mode: 'connect', messages: 1e9 }, 15_000), 'short');
});

test('connect mode: a server that closes before echoing is caught as a short echo', async (t) => {
  const port = await faultyServer(t, (socket) => socket.once('data', () => socket.end()));
  assertOnly(await bench({ ...QUICK, port, mode: 'connect' }), 'short');
});


test('CLI: --json prints exactly one JSON object on stdout; errors make exit 1', async (t) => {
  const good = await startTestServer(t);
  const ok = await runCli(['bench', '127.0.0.1', String(good.address.port), '-c', '3', '-s', '1k', '-d', '0.3', '--warmup', '0', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const lines = ok.stdout.toString().trimEnd().split('\n');
  assert.equal(lines.length, 1);
  const parsed = JSON.parse(lines[0] as string) as BenchResult;
  assert.equal(parsed.errorTotal, 0);
  assert.equal(parsed.connections, 3);
  assert.equal(parsed.size, 1024);

  const port = await faultyServer(t, echoWith((chunk, pos) => (pos > 5000 ? 'reset' : chunk)));
  const bad = await runCli(['bench', '127.0.0.1', String(port), '-c', '2', '-d', '0.3', '--warmup', '0', '--json']);
  assert.equal(bad.code, 1);
  assert.ok((JSON.parse(bad.stdout.toString()) as BenchResult).errors.reset > 0);
});

test('CLI: the text report names the figures', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['bench', '127.0.0.1', String(server.address.port), '-c', '2', '-n', '500', '--warmup', '0']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  for (const word of ['msg/s', 'MiB/s', 'p99.9', 'generator CPU', 'errors        0']) assert.ok(text.includes(word), word);
});

for (const threads of [1, 2]) {
  test(`CLI: Ctrl-C (SIGINT) stops the run (${threads} thread(s): every one) and prints the partial results of all`, async (t) => {
    const server = await startTestServer(t);
    let opened = 0;
    server.on('connection', () => opened++);
    const connections = 2 * threads;
    const args = ['bench', '127.0.0.1', String(server.address.port), '-c', String(connections), '--threads', String(threads), '-d', '60', '--warmup', '0', '--json'];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(child, null, 20_000, 'bench after SIGINT');
    await until(() => opened === connections, 5000, 'bench connections');
    // Let some messages be counted.
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout.toString()) as BenchResult;
    assert.equal(parsed.interrupted, true);
    assert.equal(parsed.connections, connections);
    assert.ok(parsed.messages > 0);
    assert.ok(parsed.durationS < 30);
  });
}

test('CLI: bench usage errors exit 2', async () => {
  for (const args of [['-s', '1x'], ['-c', '0'], ['-m', 'flood'], ['-d', '1', '-n', '5'], ['--pipeline', '0'], ['-d', '0'], ['--threads', '0'], ['--threads', '65']]) {
    const result = await runCli(['bench', '127.0.0.1', '9', ...args]);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
  }
});

test('CLI: -6 with a lone port drives ::1; -4 with an IPv6 address is a usage error', async (t) => {
  const server = await startTestServer(t, { host: '::1' });
  let peers = new Set<string>();
  server.on('connection', (info) => peers.add(info.remoteAddress));
  const ok = await runCli(['bench', '-6', String(server.address.port), '-c', '2', '-n', '50', '--warmup', '0', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout.toString()) as BenchResult).target, `[::1]:${server.address.port}`);
  assert.deepEqual([...peers], ['::1']);
  peers = new Set();
  const refused = await runCli(['bench', '-4', `[::1]:${server.address.port}`, '-n', '5']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^tcpecho: Expected an IPv4 address with `-4`, got `::1`/);
});

test('library: family 4 connects a name to its IPv4 address only; a bad family is a usage error', async (t) => {
  const server = await startTestServer(t);
  const result = await bench({ ...QUICK, host: 'localhost', family: 4, port: server.address.port, connections: 2, messages: 20 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errorSamples));
  await assert.rejects(runBench({ port: server.address.port, family: 5 as 4 }), { code: 'TCPECHO_ERR_USAGE' });
});

test('with a message count and --rate, a server that goes away ends the run once no message has come for timeoutMs', async (t) => {
  const server = await startTestServer(t);
  let arrived = 0;
  server.on('connection', () => arrived++);
  const run = bench({ ...QUICK, port: server.address.port, mode: 'connect', rate: 50, messages: 1_000_000, timeoutMs: 500 }, 15_000);
  await until(() => arrived >= 5, 5000, 'the first arrivals');
  await within(server.destroy(), 5000, 'server destroyed');
  const result = await run;
  assert.ok(result.messages < 1_000_000);
  assert.ok(result.errors.connect > 0, JSON.stringify(result.errors));
});
