import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { within } from './timeout.js';

/** A raw loopback connection (test-side, independent of the library's client). */
export async function connectTo(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port, host, allowHalfOpen: true });
  await within(once(socket, 'connect'), 5000, `connect to ${host}:${port}`);
  return socket;
}

/** Everything the socket receives until the peer's FIN. Rejects on error. */
export function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    // A socket paused by readExactly stays paused when a 'data' listener is added.
    socket.resume();
  });
}

/** Sends `data`, half-closes, and returns all that came back. */
export async function echoOf(port: number, data: Buffer, timeoutMs = 20_000): Promise<Buffer> {
  const socket = await connectTo(port);
  try {
    return await endWithEcho(socket, data, timeoutMs, `echo of ${data.length} bytes`);
  } finally {
    socket.destroy();
  }
}

/** Reads exactly `n` bytes (as they arrive, split or merged) and resolves with them. */
export function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    function onData(chunk: Buffer): void {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= n) {
        cleanup();
        const all = Buffer.concat(chunks);
        if (all.length > n) socket.unshift(all.subarray(n));
        resolve(all.subarray(0, n));
      }
    }
    function onEnd(): void {
      cleanup();
      reject(new Error(`connection ended after ${got} of ${n} bytes`));
    }
    function onError(err: Error): void {
      cleanup();
      reject(err);
    }
    function cleanup(): void {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    socket.resume();
  });
}

/**
 * Resolves when the peer has closed the connection, by FIN or by reset: the client is not left
 * hanging. Resumes the socket so that a pending FIN is seen. Call it before the close can happen:
 * a paused socket with nothing buffered still emits 'end' on its own.
 */
export function closedByPeer(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
    socket.resume();
  });
}

/** Sends `data` with our FIN (a half-close) and resolves with everything echoed before the server's FIN. */
export function endWithEcho(socket: net.Socket, data: Buffer | string, timeoutMs: number, what: string): Promise<Buffer> {
  const received = readAll(socket);
  socket.end(data);
  return within(received, timeoutMs, what);
}

/**
 * `count` connections to `port`, each of which has echoed `greeting` once (in fork and cluster
 * modes: its process has taken it over). Errors on them are ignored (a test may kill their
 * server); they are destroyed when the test ends.
 */
export async function servedClients(t: TestContext, port: number, count: number, greeting: string): Promise<net.Socket[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => connectTo(port)));
  t.after(() => sockets.forEach((s) => s.destroy()));
  for (const socket of sockets) {
    socket.on('error', () => {});
    socket.write(greeting);
    await within(readExactly(socket, Buffer.byteLength(greeting)), 10_000, 'first echo');
  }
  return sockets;
}

/** `rounds` small messages, each sent once the last one's echo is back, each echo checked. */
export async function pingPong(client: net.Socket, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const message = randomBytes(100);
    client.write(message);
    assert.ok((await within(readExactly(client, message.length), 5000, `echo ${i}`)).equals(message));
  }
}

/** `size` pseudo-random bytes (a multiple of 4), made quickly and reproducibly from `seed` (xorshift32). */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(size);
  let x = seed;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data.writeUInt32LE(x >>> 0, i);
  }
  return data;
}
