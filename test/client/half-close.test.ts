// halfClose against the Node 20 trap it exists for: a TLS socket ended from inside its own 'data'
// callback loses everything the peer sends after that chunk. The peer is a TLS server in another
// process that sends 1 MiB as soon as a client connects; the client ends its side on the first
// 'data'. Ended at once, the socket gets that first record and then only the peer's close_notify
// (shown here, so that the test would notice the day Node no longer needs the deferral); ended
// through halfClose, every byte arrives.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import tls from 'node:tls';
import { halfClose } from '../../src/index.js';
import { testCertificates } from '../helpers/certs.js';
import { within } from '../helpers/timeout.js';

const BURST = 1024 * 1024;

/** The peer: on each connection, BURST bytes at once; its side ends when the client's does. */
async function burstServer(t: TestContext): Promise<number> {
  const { server } = await testCertificates();
  const script = `
    const tls = require('node:tls');
    const s = tls.createServer({ cert: process.env.CERT, key: process.env.KEY, allowHalfOpen: true }, (c) => {
      c.on('error', () => {});
      c.resume();
      c.on('end', () => c.end());
      c.write(Buffer.alloc(${BURST}, 7));
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CERT: server.cert, KEY: server.key } });
  t.after(() => child.kill());
  const [line] = (await within(once(child.stdout, 'data'), 10_000, 'the burst server to listen')) as [Buffer];
  return Number(line.toString().trim());
}

/** Connects, ends our side on the first 'data' with `end`; the bytes received. */
async function receivedAfterEnding(t: TestContext, port: number, end: (socket: tls.TLSSocket) => void): Promise<number> {
  // allowHalfOpen is net.connect's option, which tls.connect passes on (its types leave it out).
  const options = { port, host: '127.0.0.1', rejectUnauthorized: false, allowHalfOpen: true };
  const socket = tls.connect(options);
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  await within(once(socket, 'secureConnect'), 10_000, 'the TLS handshake');
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    if (received === 0) end(socket);
    received += chunk.length;
  });
  await within(once(socket, 'close'), 10_000, 'the connection to close');
  return received;
}

test('Node 20 loses a TLS echo still to come when end() runs in the socket\'s own data callback; halfClose does not', async (t) => {
  const port = await burstServer(t);
  const atOnce: number[] = [];
  for (let i = 0; i < 3; i++) atOnce.push(await receivedAfterEnding(t, port, (socket) => socket.end()));
  assert.ok(atOnce.some((n) => n < BURST), `end() at once lost nothing (${atOnce.join(', ')} of ${BURST} bytes): Node may no longer need halfClose's deferral`);
  for (let i = 0; i < 3; i++) assert.equal(await receivedAfterEnding(t, port, halfClose), BURST, 'every byte after halfClose');
});

test('halfClose on a plain TCP socket ends it at once', async (t) => {
  const server = net.createServer({ allowHalfOpen: true }, (s) => s.on('end', () => s.end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const socket = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => socket.destroy());
  await within(once(socket, 'connect'), 5000, 'connect');
  halfClose(socket);
  assert.equal(socket.writableEnded, true, 'ended in the same turn');
  socket.resume();
  await within(once(socket, 'close'), 5000, 'close');
});
