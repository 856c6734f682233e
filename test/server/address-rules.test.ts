// `allow` and `deny` in every mode: a refused client is closed by the process that accepts it,
// before a byte is read, and never reaches what echoes. Node 20 ignores net.Server's `blockList`
// option, so these prove the rule holds, from a second loopback address (127.0.0.2 is on `lo`).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import type { ConnectionOpen, ConnectionReject, EchoServer, EchoServerOptions } from '../../src/index.js';
import { AddressRules } from '../../src/server/address-rules.js';
import { endWithEcho } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const MODES: Array<[string, EchoServerOptions]> = [
  ['event', { mode: 'event' }],
  ['fork', { mode: 'fork', spare: 2 }],
  ['cluster rr', { mode: 'cluster', workers: 2, balance: 'rr' }],
  // Workers accept on the shared socket themselves: they refuse, not the primary.
  ['cluster shared', { mode: 'cluster', workers: 2, balance: 'shared' }],
];

/** Several refused clients, so that with `shared` some land on each worker, not only the primary. */
const REFUSED_CLIENTS = 6;

interface Watched {
  server: EchoServer;
  opened: ConnectionOpen[];
  rejected: ConnectionReject[];
}

async function watchedServer(t: Parameters<typeof startTestServer>[0], options: EchoServerOptions): Promise<Watched> {
  const server = await startTestServer(t, options);
  const opened: ConnectionOpen[] = [];
  const rejected: ConnectionReject[] = [];
  server.on('connection', (info) => opened.push(info));
  server.on('reject', (info) => rejected.push(info));
  if (options.mode === 'fork') await until(() => server.sparePids.length === options.spare, 10_000, 'the spares ready');
  return { server, opened, rejected };
}

/**
 * A client that sends a greeting and waits for the server to close: resolves with every byte it
 * got back (none, when it was refused).
 */
async function bytesBack(port: number, host: string, localAddress?: string): Promise<Buffer> {
  const socket = net.connect({ port, host, allowHalfOpen: true, ...(localAddress === undefined ? {} : { localAddress }) });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // A refused client may see its greeting answered by a reset (the server closed with it unread).
  socket.on('error', () => {});
  socket.once('connect', () => socket.end('hello'));
  // Not events.once: it would reject on that reset.
  await within(new Promise((resolve) => socket.once('close', resolve)), 10_000, `a client from ${localAddress ?? 'the default address'} to ${host}:${port} closed`);
  return Buffer.concat(chunks);
}

async function assertServed(port: number, host: string, localAddress?: string): Promise<void> {
  const data = randomBytes(64 * 1024);
  const socket = net.connect({ port, host, allowHalfOpen: true, ...(localAddress === undefined ? {} : { localAddress }) });
  try {
    await within(once(socket, 'connect'), 5000, 'connect');
    const echoed = await endWithEcho(socket, data, 10_000, `the echo for a client from ${localAddress ?? 'the default address'}`);
    assert.ok(echoed.equals(data), 'echoed byte for byte');
  } finally {
    socket.destroy();
  }
}

/** `count` clients from `localAddress`, each refused: no byte back, a `denied` reject each, nothing opened. */
async function assertRefused(watched: Watched, host: string, localAddress: string | undefined, count = REFUSED_CLIENTS): Promise<void> {
  const { server, opened, rejected } = watched;
  const spares = server.sparePids.slice().sort();
  const before = rejected.length;
  for (let i = 0; i < count; i++) {
    const back = await bytesBack(server.address.port, host, localAddress);
    assert.equal(back.length, 0, 'a refused client gets no byte');
  }
  // Cluster workers report over IPC, which may come after the client saw its close.
  await until(() => rejected.length === before + count, 5000, () => `${count} reject events (got ${rejected.length - before})`);
  for (const info of rejected.slice(before)) {
    assert.equal(info.reason, 'denied');
    assert.equal(AddressRules.from([localAddress ?? host])?.allows(info.remoteAddress), true, `the reject names the client: ${info.remoteAddress}`);
  }
  assert.equal(server.rejectedConnections, before + count);
  // Nothing was handed to what echoes (so nothing read it); in fork mode no child was used.
  assert.equal(opened.length, 0, 'no connection event for a refused client');
  assert.deepEqual(server.sparePids.slice().sort(), spares, 'the same spare children, none used');
  assert.equal(server.connections, 0);
}

for (const [name, options] of MODES) {
  test(`${name}: under allow 127.0.0.1/32 a client from 127.0.0.2 is refused unread, one from 127.0.0.1 served`, async (t) => {
    const watched = await watchedServer(t, { ...options, allow: ['127.0.0.1/32'] });
    await assertRefused(watched, '127.0.0.1', '127.0.0.2');
    await assertServed(watched.server.address.port, '127.0.0.1', '127.0.0.1');
    await until(() => watched.opened.length === 1, 5000, 'the served client opened');
    assert.equal(watched.opened[0]?.remoteAddress, '127.0.0.1');
  });

  test(`${name}: deny wins over allow`, async (t) => {
    const watched = await watchedServer(t, { ...options, allow: ['127.0.0.0/8'], deny: ['127.0.0.2'] });
    await assertRefused(watched, '127.0.0.1', '127.0.0.2');
    await assertServed(watched.server.address.port, '127.0.0.1', '127.0.0.1');
  });

  test(`${name}: on a dual-stack listener an IPv4-mapped peer matches IPv4 rules, and ::1/128 an IPv6 client`, async (t) => {
    const v4 = await watchedServer(t, { ...options, host: '::', allow: ['127.0.0.1'] });
    // The server sees ::ffff:127.0.0.2, ::1, then ::ffff:127.0.0.1.
    await assertRefused(v4, '127.0.0.1', '127.0.0.2', 2);
    await assertRefused(v4, '::1', undefined, 2);
    await assertServed(v4.server.address.port, '127.0.0.1', '127.0.0.1');
    await until(() => v4.opened.length === 1, 5000, 'the served client opened');
    assert.equal(v4.opened[0]?.remoteAddress, '::ffff:127.0.0.1');

    const v6 = await watchedServer(t, { ...options, host: '::', allow: ['::1/128'] });
    await assertRefused(v6, '127.0.0.1', undefined, 2);
    await assertServed(v6.server.address.port, '::1');
    await until(() => v6.opened.length === 1, 5000, 'the served client opened');
    assert.equal(v6.opened[0]?.remoteAddress, '::1');
  });
}
