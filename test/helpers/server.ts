import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { startEchoServer, type EchoServer, type EchoServerOptions } from '../../src/index.js';
import { within } from './timeout.js';

/** An in-process server (by default on 127.0.0.1 and a free port), destroyed when the test ends. */
export async function startTestServer(t: TestContext, options: EchoServerOptions = {}): Promise<EchoServer> {
  const server = await within(startEchoServer(options), 20_000, `startEchoServer ${JSON.stringify(options)}`);
  t.after(() => within(server.destroy(), 10_000, 'server.destroy()'));
  return server;
}

/** Listens with a plain `net.Server` on 127.0.0.1 and a free port, closed when the test ends; the port. */
export async function listenOnLoopback(t: TestContext, server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), 5000, 'listening');
  t.after(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** A loopback TCP port nobody listens on now: bound to 0, noted, closed (for a refused connection, or a program that cannot be told to pick one). */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await within(once(server, 'listening'), 5000, 'a free port bound');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A UDP port nobody uses on `address` now: bound to 0, noted, closed. */
export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  socket.bind(0, address);
  await within(once(socket, 'listening'), 5000, 'a free UDP port bound');
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}
