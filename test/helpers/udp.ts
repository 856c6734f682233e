// UDP sockets for tests: bound on loopback, closed when the test ends, and echo servers that
// misbehave on purpose (drop, duplicate, reorder, corrupt).
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { within } from './timeout.js';

/** A socket bound to `address`:`port` (0: any free port), closed after the test. */
export async function udpSocket(t: TestContext, address = '127.0.0.1', port = 0): Promise<dgram.Socket> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => {});
  t.after(() => closeQuietly(socket));
  socket.bind(port, address);
  await within(once(socket, 'listening'), 5000, `bind ${address}:${port}`);
  return socket;
}

export function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // Closed already.
  }
}

/** Sends `payload` from `socket` to `port` and resolves with the first datagram back, or undefined after `ms`. */
export async function roundTrip(socket: dgram.Socket, port: number, payload: Buffer, ms = 1000, host = '127.0.0.1'): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), ms);
    function onMessage(message: Buffer): void {
      done(message);
    }
    function done(message: Buffer | undefined): void {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(message);
    }
    socket.on('message', onMessage);
    socket.send(payload, port, host);
  });
}

/** Datagrams `socket` receives within `ms`. */
export function collectFor(socket: dgram.Socket, ms: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  const onMessage = (message: Buffer): number => got.push(message);
  socket.on('message', onMessage);
  return new Promise((resolve) =>
    setTimeout(() => {
      socket.off('message', onMessage);
      resolve(got);
    }, ms),
  );
}

/** The first `count` datagrams `socket` receives, or those that came within `ms` (then fewer). */
export function collectCount(socket: dgram.Socket, count: number, ms: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function onMessage(message: Buffer): void {
      if (got.push(message) === count) done();
    }
    function done(): void {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(got);
    }
    socket.on('message', onMessage);
  });
}

/** A small seeded PRNG (mulberry32): the same faults on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Faults {
  /** Share of datagrams not echoed. */
  drop?: number;
  /** Share echoed twice. */
  duplicate?: number;
  /** Share held back `delayMs` (then echoed after later ones: reordered). */
  delay?: number;
  delayMs?: number;
  /** Share echoed with one byte flipped. */
  corrupt?: number;
  /** Never echo a datagram equal to this. */
  never?: Buffer;
  seed?: number;
}

/** An echo server on 127.0.0.1 that misbehaves as `faults` says; resolves with its port. */
export async function faultyEchoServer(t: TestContext, faults: Faults): Promise<{ port: number; received: () => number }> {
  const socket = await udpSocket(t);
  const random = seeded(faults.seed ?? 1);
  let received = 0;
  const timers = new Set<NodeJS.Timeout>();
  t.after(() => timers.forEach(clearTimeout));
  socket.on('message', (message, remote) => {
    received++;
    const send = (m: Buffer): void => socket.send(m, remote.port, remote.address);
    if (faults.never !== undefined && message.equals(faults.never)) return;
    const r = random();
    let edge = faults.drop ?? 0;
    if (r < edge) return;
    if (r < (edge += faults.duplicate ?? 0)) return send(message), send(message);
    if (r < (edge += faults.delay ?? 0)) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(message);
      }, faults.delayMs ?? 20);
      timers.add(timer);
      return;
    }
    if (r < (edge += faults.corrupt ?? 0) && message.length > 8) {
      const copy = Buffer.from(message);
      copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0xff;
      return send(copy);
    }
    send(message);
  });
  return { port: socket.address().port, received: () => received };
}
