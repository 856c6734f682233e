// Connecting is bounded like every other wait of a run: a connect that does not complete within
// `timeoutMs` is a `connect` error, and a run whose opening connections all fail to connect has no
// server to measure: it rejects at once, in the words of the client, instead of counting connect
// errors for its whole duration (or, with a message count, forever).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBench, type BenchOptions, type BenchResult } from '../../src/bench/index.js';
import { TcpechoError } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/server.js';
import { stoppedListener, stuckPort } from '../helpers/stuck-server.js';
import { within } from '../helpers/timeout.js';

const QUICK: BenchOptions = { host: '127.0.0.1', warmupMs: 0, durationMs: 500, timeoutMs: 500, connections: 3, size: 512 };

/** runBench within `ms`, aborted past it so that a run that does not end cannot hold the test process. */
async function bench(options: BenchOptions, ms: number): Promise<BenchResult> {
  const stop = new AbortController();
  try {
    return await within(runBench({ ...options, signal: stop.signal }), ms, `runBench ${JSON.stringify(options)}`);
  } finally {
    stop.abort();
  }
}


/** Rejects with `TcpechoError` of `code` and exactly `message`. */
async function assertRejects(run: Promise<unknown>, code: string, message: string): Promise<void> {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof TcpechoError, `not a TcpechoError: ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

const SHAPES: { name: string; options: BenchOptions }[] = [
  { name: 'pingpong', options: { mode: 'pingpong' } },
  { name: 'pingpong with a message count', options: { mode: 'pingpong', messages: 10, connections: 1 } },
  { name: 'stream', options: { mode: 'stream' } },
  { name: 'connect', options: { mode: 'connect' } },
  { name: 'connect with a message count', options: { mode: 'connect', messages: 10 } },
  { name: 'connect with a rate', options: { mode: 'connect', rate: 50 } },
];

for (const threads of [1, 2]) {
  for (const { name, options } of SHAPES) {
    test(`${name}, ${threads} thread(s): no server rejects with the client's ConnectError`, async () => {
      const port = await freePort();
      const run = bench({ ...QUICK, ...options, port, threads, connections: 4, durationMs: 60_000 }, 10_000);
      await assertRejects(run, 'TCPECHO_ERR_CONNECT', `Connection refused by 127.0.0.1:${port} (is the server running?)`);
    });
  }
}

for (const { name, options } of SHAPES) {
  test(`${name}: a connect that never completes rejects after timeoutMs with the client's ConnectTimeoutError`, async (t) => {
    // A listener whose accept queue is full: the kernel drops our SYNs, as for a black-holed address.
    const port = await stuckPort(t);
    const run = bench({ ...QUICK, ...options, port, durationMs: 60_000 }, 5000);
    await assertRejects(run, 'TCPECHO_ERR_CONNECT_TIMEOUT', `No connection to 127.0.0.1:${port} within 500 ms`);
  });
}

test('a connect that does not complete within timeoutMs is counted as a connect error, once connections have been made', async (t) => {
  // Arrivals one at a time: the first two connect (and never get an echo: timeouts), every later
  // one waits on a dropped SYN until timeoutMs, which is a failure to connect, not to echo.
  const port = await stoppedListener(t);
  const result = await bench({ ...QUICK, port, mode: 'connect', rate: 20, connections: 10, durationMs: 1200, timeoutMs: 400 }, 15_000);
  assert.ok(result.errors.timeout > 0, JSON.stringify(result.errors));
  assert.ok(result.errors.connect > 0, JSON.stringify(result.errors));
  assert.equal(result.errorTotal, result.errors.timeout + result.errors.connect, JSON.stringify(result.errors));
  assert.ok(result.errorSamples.some((s) => s === `connect: No connection to 127.0.0.1:${port} within 400 ms`), JSON.stringify(result.errorSamples));
});

for (const args of [['-n', '10', '-c', '1'], ['-d', '1'], ['-m', 'connect', '--threads', '2', '-c', '2']]) {
  test(`CLI: bench ${args.join(' ')} with no server prints the client's one line and exits 1`, async () => {
    const port = await freePort();
    const result = await runCli(['bench', '127.0.0.1', String(port), '--warmup', '0', ...args], { timeoutMs: 15_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `tcpecho: Connection refused by 127.0.0.1:${port} (is the server running?)\n`);
    assert.equal(result.stdout.length, 0, result.stdout.toString());
  });
}
