// Faults on the echo, each alone, in event and fork modes (cluster where it differs), and changed
// while the server runs. Time is asserted only as "at least", with generous bounds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { ConnectionClose, EchoServerOptions } from '../../src/index.js';
import { connectTo, readAll, readExactly } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const MODES: EchoServerOptions[] = [{ mode: 'event' }, { mode: 'fork', spare: 1 }];

/** Writes `data` (without half-closing) and resolves with every byte echoed before the server closed. */
async function echoUntilClosed(port: number, data: Buffer): Promise<Buffer> {
  const socket = await connectTo(port);
  socket.on('error', () => {});
  try {
    const received = readAll(socket);
    socket.write(data);
    return await within(received, 10_000, 'the echo up to the close');
  } finally {
    socket.destroy();
  }
}

/** Sends `data`, half-closes, and resolves with the echo and the sizes of the reads it came in. */
async function echoWithReads(port: number, data: Buffer, timeoutMs = 20_000): Promise<{ echo: Buffer; reads: number[]; ms: number }> {
  const socket = await connectTo(port);
  const reads: number[] = [];
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    reads.push(chunk.length);
    chunks.push(chunk);
  });
  const started = performance.now();
  socket.end(data);
  await within(once(socket, 'end'), timeoutMs, 'echo and FIN');
  socket.destroy();
  return { echo: Buffer.concat(chunks), reads, ms: performance.now() - started };
}

for (const base of MODES) {
  describe(`faults, mode ${String(base.mode)}`, () => {
    test('delay: no echo before the delay, bytes exact', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { delayMs: 300 } });
      const data = randomBytes(1000);
      const { echo, ms } = await echoWithReads(server.address.port, data);
      assert.ok(echo.equals(data));
      assert.ok(ms >= 290, `echoed after ${ms.toFixed(0)} ms`);
    });

    test('chunk: a 10 KiB echo arrives in pieces of at most BYTES, content exact', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { chunk: { bytes: 1024, intervalMs: 40 } } });
      const data = randomBytes(10_240);
      const { echo, reads, ms } = await echoWithReads(server.address.port, data);
      assert.ok(echo.equals(data));
      // Ten pieces 40 ms apart: 360 ms at least. A reader the machine stalls for longer than
      // 40 ms finds two pieces queued as one read, so the size is judged on the median read.
      assert.ok(ms >= 340, `echoed in ${ms.toFixed(0)} ms`);
      assert.ok(reads.length >= 5, `${reads.length} reads: ${reads.join(',')}`);
      const median = [...reads].sort((a, b) => a - b)[Math.floor(reads.length / 2)] as number;
      assert.ok(median <= 1024, reads.join(','));
    });

    test('bandwidth: 1 MiB at 512 KB/s takes at least ~2 s', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { bandwidthKbps: 512 } });
      const data = randomBytes(2 ** 20);
      const { echo, ms } = await echoWithReads(server.address.port, data, 30_000);
      assert.ok(echo.equals(data));
      assert.ok(ms >= 1900, `1 MiB in ${ms.toFixed(0)} ms`);
    });

    test('close-after: the exact prefix, then FIN', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { closeAfter: 1000 } });
      const data = randomBytes(5000);
      const echo = await echoUntilClosed(server.address.port, data);
      assert.ok(echo.equals(data.subarray(0, 1000)), `got ${echo.length} bytes`);
    });

    test('reset-after: the exact prefix, then ECONNRESET', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { resetAfter: 1000 } });
      const socket = await connectTo(server.address.port);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      const failed = once(socket, 'error');
      socket.write(randomBytes(5000));
      const [err] = (await within(failed, 10_000, 'reset')) as [NodeJS.ErrnoException];
      assert.equal(err.code, 'ECONNRESET');
      assert.equal(Buffer.concat(chunks).length, 1000);
    });

    test('stall-after: no byte past N, and the connection stays open', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { stallAfter: 100 } });
      const socket = await connectTo(server.address.port);
      t.after(() => socket.destroy());
      let got = 0;
      socket.on('data', (c: Buffer) => (got += c.length));
      let closed = false;
      socket.on('close', () => (closed = true));
      socket.write(randomBytes(1000));
      await until(() => got >= 100, 5000, 'the first 100 bytes');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(got, 100);
      assert.equal(closed, false);
      assert.equal(server.connections, 1);
    });

    test('refuse-rate 1: every connection is reset at once, none served', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { refuseRate: 1 } });
      for (let i = 0; i < 5; i++) {
        const socket = net.connect({ host: '127.0.0.1', port: server.address.port });
        socket.write('hello');
        const [err] = (await within(once(socket, 'error'), 5000, 'reset')) as [NodeJS.ErrnoException];
        assert.match(err.code ?? '', /ECONNRESET|EPIPE/);
      }
      assert.equal(server.rejectedConnections, 5);
    });

    test('setFaults mid-run: a clean stream gets the delay from its next read; clearFaults heals it', async (t) => {
      const server = await startTestServer(t, base);
      const socket = await connectTo(server.address.port);
      t.after(() => socket.destroy());
      const timed = async (): Promise<number> => {
        const started = performance.now();
        socket.write('ping');
        await within(readExactly(socket, 4), 10_000, 'echo');
        return performance.now() - started;
      };
      await timed();
      await server.setFaults({ delayMs: 400 });
      assert.deepEqual(server.getFaults(), { delayMs: 400 });
      const slow = await timed();
      assert.ok(slow >= 390, `echo after ${slow.toFixed(0)} ms with the delay on`);
      await server.clearFaults();
      assert.deepEqual(server.getFaults(), {});
      const healed = await timed();
      assert.ok(healed < 350, `echo after ${healed.toFixed(0)} ms once healed`);
    });

    test('setFaults rejects an unknown field or a bad value and changes nothing', async (t) => {
      const server = await startTestServer(t, { ...base, faults: { delayMs: 10 } });
      await assert.rejects(server.setFaults({ delayMs: -1 }), { code: 'TCPECHO_ERR_USAGE' });
      await assert.rejects(server.setFaults({ nonsense: 1 } as never), { code: 'TCPECHO_ERR_USAGE' });
      assert.deepEqual(server.getFaults(), { delayMs: 10 });
    });
  });
}

test('fork mode: after setFaults, a new client (served by a spare started before) gets the fault', async (t) => {
  const server = await startTestServer(t, { mode: 'fork', spare: 2 });
  await until(() => server.sparePids.length === 2, 20_000, 'two spares');
  await server.setFaults({ closeAfter: 3 });
  assert.equal((await echoUntilClosed(server.address.port, Buffer.from('hello'))).toString(), 'hel');
});

test('cluster mode: setFaults reaches every worker', async (t) => {
  const server = await startTestServer(t, { mode: 'cluster', workers: 2 });
  await server.setFaults({ closeAfter: 2 });
  for (let i = 0; i < 4; i++) {
    assert.equal((await echoUntilClosed(server.address.port, Buffer.from('hello'))).toString(), 'he');
  }
});

test('fault-rate 0.5 over 200 connections: between 60 and 140 faulted, each close record says which', async (t) => {
  const server = await startTestServer(t, { faults: { closeAfter: 1, faultRate: 0.5 } });
  const closes: ConnectionClose[] = [];
  server.on('disconnect', (info) => closes.push(info));
  let faulted = 0;
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(Array.from({ length: 20 }, async () => {
      const socket = await connectTo(server.address.port);
      socket.on('error', () => {});
      const received = readAll(socket).catch(() => Buffer.alloc(0));
      socket.end('ab');
      if ((await within(received, 10_000, 'echo')).length === 1) faulted++;
      socket.destroy();
    }));
  }
  await until(() => closes.length === 200, 10_000, '200 closes');
  assert.ok(faulted >= 60 && faulted <= 140, `${faulted} faulted`);
  assert.equal(closes.filter((c) => c.faults?.includes('close')).length, faulted);
});

for (const faults of [{ delayMs: 1000 }, { bandwidthKbps: 64 }]) test(`a 64 MiB flood into ${JSON.stringify(faults)} keeps the server within its hold bound`, async (t) => {
  const server = await startTestServer(t, { faults });
  const { rssBytes } = await import('../helpers/process.js');
  const before = rssBytes(process.pid);
  const socket = await connectTo(server.address.port);
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  let echoed = 0;
  socket.on('data', (c: Buffer) => (echoed += c.length));
  const chunk = Buffer.alloc(64 * 1024, 1);
  let sent = 0;
  // Write as the kernel takes it, for up to 3 s: the hold bound pauses the server's reading, so the
  // client's writes stall too.
  const deadline = performance.now() + 3000;
  let stalled = false;
  while (sent < 64 * 2 ** 20 && performance.now() < deadline) {
    sent += chunk.length;
    if (socket.write(chunk)) continue;
    const drained = await Promise.race([once(socket, 'drain').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 700))]);
    if (!drained) {
      stalled = true;
      break;
    }
  }
  assert.ok(stalled, `the server kept reading: ${sent >> 20} MiB taken in 3 s`);
  const grown = rssBytes(process.pid) - before;
  t.diagnostic(`sent ${sent >> 20} MiB, echoed ${echoed >> 20} MiB, RSS +${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(grown < 64 * 2 ** 20, `RSS grew by ${grown} bytes`);
});
