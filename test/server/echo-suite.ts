// The echo behaviours every server mode must have, run per mode by the *.test.ts files: once as
// the server runs by default, and once with adoption off (TCPECHO_ADOPT=0, which fork children and
// cluster workers inherit), so that the stream path every connection falls back to when Node's
// internals are not what adopt-socket.ts expects keeps working.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import type { ConnectionClose, EchoServerOptions } from '../../src/index.js';
import { closedByPeer, connectTo, echoOf, endWithEcho, readAll, readExactly } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

export interface SuiteOptions {
  server: EchoServerOptions;
  /** How many concurrent clients, each with its own data. */
  concurrentClients: number;
}

export function echoSuite(options: SuiteOptions): void {
  describe('adoption on (the default)', () => echoTests(options));
  describe('adoption off (TCPECHO_ADOPT=0): the stream path', () => {
    let saved: string | undefined;
    before(() => {
      saved = process.env.TCPECHO_ADOPT;
      process.env.TCPECHO_ADOPT = '0';
    });
    after(() => {
      if (saved === undefined) delete process.env.TCPECHO_ADOPT;
      else process.env.TCPECHO_ADOPT = saved;
    });
    // In process (event mode), test/server/echo-context.test.ts checks a dispatcher reads it.
    if (options.server.mode !== undefined && options.server.mode !== 'event') {
      test('every process that echoes has TCPECHO_ADOPT=0 in its environment', async (t) => {
        const server = await startTestServer(t, options.server);
        const socket = await connectTo(server.address.port);
        t.after(() => socket.destroy());
        socket.write('x');
        await within(readExactly(socket, 1), 5000, 'echo');
        assert.ok(server.childPids.length > 0, 'no child process to look at');
        for (const pid of server.childPids) {
          const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
          assert.ok(environment.includes('TCPECHO_ADOPT=0'), `process ${pid} would adopt`);
        }
      });
    }
    echoTests(options);
  });
}

function echoTests({ server: serverOptions, concurrentClients }: SuiteOptions): void {
  test('echoes a short line byte for byte', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const echoed = await echoOf(server.address.port, Buffer.from('hello, echo\n'));
    assert.equal(echoed.toString(), 'hello, echo\n');
  });

  test('echoes 16 MiB of random bytes exactly', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const data = randomBytes(16 * 1024 * 1024);
    const echoed = await echoOf(server.address.port, data, 60_000);
    assert.equal(echoed.length, data.length);
    assert.ok(echoed.equals(data), '16 MiB echo differs');
  });

  test('is binary-safe: invalid UTF-8, NULs and every byte value come back unchanged', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const data = Buffer.concat([Buffer.from([0xff, 0xfe, 0xe2, 0x82, 0x00, 0x0d, 0x0a]), everyByte, randomBytes(70_000)]);
    const echoed = await echoOf(server.address.port, data);
    assert.ok(echoed.equals(data));
  });

  test('an empty session (connect, then FIN) gets a clean FIN back', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const echoed = await echoOf(server.address.port, Buffer.alloc(0));
    assert.equal(echoed.length, 0);
  });

  test(`serves ${concurrentClients} concurrent clients, each getting exactly its own data`, async (t) => {
    const server = await startTestServer(t, serverOptions);
    const payloads = Array.from({ length: concurrentClients }, (_, i) => randomBytes(1000 + i * 97));
    const echoes = await within(
      Promise.all(payloads.map((data) => echoOf(server.address.port, data, 60_000))),
      60_000,
      'all concurrent echoes',
    );
    echoes.forEach((echoed, i) => assert.ok(echoed.equals(payloads[i] as Buffer), `client ${i} got other bytes`));
  });

  test('half-close: everything sent before the FIN is echoed, then the server ends', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const socket = await connectTo(server.address.port);
    t.after(() => socket.destroy());
    const parts = [randomBytes(100_000), randomBytes(3), randomBytes(1_000_000)];
    const received = readAll(socket);
    for (const part of parts) socket.write(part);
    // end(data): the last bytes and the FIN leave together.
    const last = randomBytes(5000);
    socket.end(last);
    const echoed = await within(received, 20_000, 'echo after half-close');
    assert.ok(echoed.equals(Buffer.concat([...parts, last])));
  });

  test('ping-pong on one connection: each message comes back before the next is sent', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const socket = await connectTo(server.address.port);
    t.after(() => socket.destroy());
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(1 + i * 311);
      socket.write(message);
      const echoed = await within(readExactly(socket, message.length), 5000, `echo ${i}`);
      assert.ok(echoed.equals(message));
    }
  });

  test('a client that resets mid-stream hurts neither the server nor another client', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const port = server.address.port;
    const closes: ConnectionClose[] = [];
    server.on('disconnect', (info) => closes.push(info));

    // A steady client, in the middle of its session while the other one resets.
    const steady = await connectTo(port);
    t.after(() => steady.destroy());
    const first = randomBytes(10_000);
    steady.write(first);
    assert.ok((await within(readExactly(steady, first.length), 5000, 'steady echo')).equals(first));

    const rude = await connectTo(port);
    rude.on('error', () => {});
    rude.write(randomBytes(2_000_000));
    await within(readExactly(rude, 1000), 5000, 'some echo before the reset');
    rude.resetAndDestroy();
    await within(once(rude, 'close'), 5000, 'rude client closed');

    const second = randomBytes(50_000);
    assert.ok((await endWithEcho(steady, second, 10_000, 'steady echo after the reset')).equals(second));
    // And a newcomer is served.
    const fresh = randomBytes(1234);
    assert.ok((await echoOf(port, fresh)).equals(fresh));
    await until(() => closes.length >= 3, 10_000, 'three close events');
    assert.ok(closes.some((c) => c.reason === 'reset' || c.reason === 'error'), `reasons: ${closes.map((c) => c.reason).join(',')}`);
  });

  test('reports each connection open and close with byte counts', async (t) => {
    const server = await startTestServer(t, serverOptions);
    const closed = once(server, 'disconnect') as Promise<[ConnectionClose]>;
    await echoOf(server.address.port, randomBytes(4321));
    const [info] = await within(closed, 10_000, 'close event');
    assert.equal(info.reason, 'eof');
    assert.equal(info.bytesRead, 4321);
    assert.equal(info.bytesWritten, 4321);
    assert.equal(info.remoteAddress, '127.0.0.1');
  });

  test('close() lets an open connection finish, then refuses newcomers', async (t) => {
    const server = await startTestServer(t, { ...serverOptions, drainTimeoutMs: 10_000 });
    const port = server.address.port;
    const socket = await connectTo(port);
    t.after(() => socket.destroy());
    const hello = Buffer.from('still here');
    socket.write(hello);
    await within(readExactly(socket, hello.length), 5000, 'first echo');
    const closing = server.close();
    // Stopped accepting at once...
    await assert.rejects(connectTo(port), { code: 'ECONNREFUSED' });
    // ...but the open connection still echoes until it is done.
    const bye = randomBytes(10_000);
    assert.ok((await endWithEcho(socket, bye, 5000, 'echo during drain')).equals(bye));
    await within(closing, 5000, 'close() after the last connection');
  });

  test('close() ends connections still open at the drain deadline', async (t) => {
    const server = await startTestServer(t, { ...serverOptions, drainTimeoutMs: 200 });
    const socket = await connectTo(server.address.port);
    socket.on('error', () => {});
    socket.write('x');
    await within(readExactly(socket, 1), 5000, 'echo');
    // The server's FIN (or a reset): either way the client is not left hanging.
    const seen = closedByPeer(socket);
    await within(server.close(), 5000, 'close() past the deadline');
    await within(seen, 5000, 'client sees the close');
    assert.equal(server.connections, 0);
  });
}
