// The soak test's clients: each kind loops until told to stop, checks every byte it should get
// back, and counts what it saw. Misbehaving kinds (resets, half-close, a reader that never reads,
// idle) are there to prove they do not hurt the server or the others.
import net from 'node:net';
import { Pattern } from '../../src/bench/pattern.js';

export interface SoakCounters {
  messages: number;
  bytesVerified: number;
  connections: number;
  /** Anything that should not happen: a mismatch, a short echo, an unexpected error. */
  failures: string[];
}

export interface SoakContext {
  port: number;
  pattern: Pattern;
  counters: SoakCounters;
  /** True once the run is over: loops stop starting new work. */
  stopped: () => boolean;
}

const MiB = 1024 * 1024;

function connect(ctx: SoakContext): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: ctx.port, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
    socket.once('connect', () => {
      ctx.counters.connections++;
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function fail(ctx: SoakContext, what: string): void {
  if (ctx.counters.failures.length < 20) ctx.counters.failures.push(what);
  else ctx.counters.failures.length++;
}

/**
 * Runs `session` on a new connection, again and again until the run stops; a failure (a connect
 * error included) is counted as `what: message`, and the next session starts.
 */
async function repeatSessions(ctx: SoakContext, what: string, session: (socket: net.Socket) => Promise<void>): Promise<void> {
  while (!ctx.stopped()) {
    try {
      await session(await connect(ctx));
    } catch (err) {
      fail(ctx, `${what}: ${(err as Error).message}`);
    }
  }
}

/** Sizes from 1 byte to 1 MiB, spread evenly on a log scale: most small, some large. */
function randomSize(): number {
  return Math.max(1, Math.round(Math.exp(Math.random() * Math.log(MiB))));
}

/**
 * Sends `sizes` one after another on `socket`, each checked as it comes back; resolves with the
 * stream position reached. Rejects on a mismatch, an early end or an error.
 */
function pingPong(ctx: SoakContext, socket: net.Socket, start: number, sizes: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    let index = 0;
    const next = (): void => {
      const size = sizes[index++];
      if (size === undefined) {
        socket.off('data', onData);
        return resolve(sent);
      }
      socket.write(ctx.pattern.window(start, sent, Math.min(size, ctx.pattern.tail)));
      sent += Math.min(size, ctx.pattern.tail);
    };
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > sent || !ctx.pattern.matches(start, received, chunk)) {
        return reject(new Error(`mismatch at stream byte ${received}`));
      }
      received += chunk.length;
      ctx.counters.bytesVerified += chunk.length;
      if (received === sent) {
        ctx.counters.messages++;
        next();
      }
    };
    socket.on('data', onData);
    socket.once('end', () => received < sent && reject(new Error(`server closed after ${received} of ${sent} bytes`)));
    socket.once('error', reject);
    next();
  });
}

/** Ends our side and waits for the server's FIN (everything echoed already). */
function finish(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.once('end', () => socket.destroy());
    socket.on('error', () => {});
    socket.end();
    socket.resume();
  });
}

/** Ping-pong with random sizes, a few messages per connection, then a clean close. */
export function pingPongLoop(ctx: SoakContext): Promise<void> {
  return repeatSessions(ctx, 'ping-pong', async (socket) => {
    await pingPong(ctx, socket, ctx.pattern.randomStart(), Array.from({ length: 1 + Math.floor(Math.random() * 20) }, randomSize));
    await finish(socket);
  });
}

/** Streams 8 MiB in 64 KiB writes while reading the echo back, then half-closes. */
export function streamLoop(ctx: SoakContext): Promise<void> {
  return repeatSessions(ctx, 'stream', async (socket) => {
    const start = ctx.pattern.randomStart();
    const total = 8 * MiB;
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      let received = 0;
      const pump = (): void => {
        while (sent < total) {
          const n = Math.min(65_536, total - sent);
          const more = socket.write(ctx.pattern.window(start, sent, n));
          sent += n;
          if (!more) return;
        }
        socket.end();
      };
      socket.on('drain', pump);
      socket.on('data', (chunk: Buffer) => {
        if (!ctx.pattern.matches(start, received, chunk)) return reject(new Error(`mismatch at stream byte ${received}`));
        received += chunk.length;
        ctx.counters.bytesVerified += chunk.length;
      });
      socket.once('end', () => {
        if (received !== total) return reject(new Error(`server closed after ${received} of ${total} bytes`));
        ctx.counters.messages++;
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
      pump();
    });
  });
}

/** Connect, send a small message with the FIN (a half-close), check the echo, repeat. */
export function halfCloseLoop(ctx: SoakContext): Promise<void> {
  return repeatSessions(ctx, 'half-close', async (socket) => {
    const start = ctx.pattern.randomStart();
    const size = 1 + Math.floor(Math.random() * 4096);
    const echoed = await new Promise<number>((resolve, reject) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        if (!ctx.pattern.matches(start, received, chunk)) return reject(new Error('mismatch'));
        received += chunk.length;
      });
      socket.once('end', () => resolve(received));
      socket.once('error', reject);
      socket.end(ctx.pattern.window(start, 0, size));
    });
    socket.destroy();
    if (echoed !== size) throw new Error(`echoed ${echoed} of ${size} bytes after the half-close`);
    ctx.counters.messages++;
    ctx.counters.bytesVerified += size;
  });
}

/** Connect, send, check, close: as fast as it goes (connection churn). */
export function churnLoop(ctx: SoakContext): Promise<void> {
  return repeatSessions(ctx, 'churn', async (socket) => {
    await pingPong(ctx, socket, ctx.pattern.randomStart(), [64]);
    await finish(socket);
  });
}

/** Sends a burst, reads a little of the echo, then resets the connection mid-stream. */
export function resetLoop(ctx: SoakContext): Promise<void> {
  return repeatSessions(ctx, 'reset', async (socket) => {
    socket.on('error', () => {});
    const start = ctx.pattern.randomStart();
    socket.write(ctx.pattern.window(start, 0, 256 * 1024));
    await new Promise<void>((resolve) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        // What does come back before the reset must still be right.
        if (!ctx.pattern.matches(start, received, chunk)) fail(ctx, 'reset client: mismatch before the reset');
        received += chunk.length;
        if (received >= 10_000) {
          socket.resetAndDestroy();
          resolve();
        }
      });
      socket.once('close', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
}

/**
 * A client that sends 8 MiB and never reads: the server must stop reading from it and stay
 * bounded. Returns the socket, destroyed when the run ends.
 */
export async function slowReader(ctx: SoakContext): Promise<net.Socket> {
  const socket = await connect(ctx);
  socket.on('error', () => {});
  socket.pause();
  socket.write(ctx.pattern.window(ctx.pattern.randomStart(), 0, 8 * MiB));
  return socket;
}

/** Clients that connect and say nothing for the whole run. */
export async function idleClients(ctx: SoakContext, count: number): Promise<net.Socket[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => connect(ctx)));
  for (const socket of sockets) socket.on('error', (err) => fail(ctx, `idle client: ${err.message}`));
  return sockets;
}
