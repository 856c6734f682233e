import net from 'node:net';
import { systemCode } from '../errors.js';
import type { LoadContext } from './verified-connection.js';

/**
 * `--mode connect`: one slot of the connection-rate test. It loops: connect, send one message,
 * check its echo, half-close, wait for the server's FIN, close. Each cycle is one connection and
 * one message; its latency runs from the connect call to the server's FIN.
 */
export class ConnectLoop {
  readonly #ctx: LoadContext;
  readonly #timeoutMs: number;
  #issuing = true;
  #socket: net.Socket | undefined;
  #cycleStart = 0;
  #received = 0;
  #start = 0;
  #failed = false;
  lastProgress = performance.now();
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  constructor(ctx: LoadContext, timeoutMs: number) {
    this.#ctx = ctx;
    this.#timeoutMs = timeoutMs;
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  /** True while a cycle is under way (the timeout checker watches it). */
  get outstanding(): number {
    return this.#socket === undefined ? 0 : 1;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  begin(): void {
    this.#cycle();
  }

  /** Let the cycle under way finish, start no other; resolves when it is done. */
  stopIssuing(): Promise<void> {
    this.#issuing = false;
    if (this.#socket === undefined) this.#resolveStopped();
    return this.#stopped;
  }

  fail(kind: 'connect' | 'mismatch' | 'short' | 'reset' | 'timeout' | 'no-fin' | 'error', detail: string): void {
    if (this.#failed || this.#socket === undefined) return;
    this.#failed = true;
    this.#ctx.stats.recordError(kind, detail);
    // A slot that failed stops: a broken server is reported, not hammered.
    this.#issuing = false;
    this.#socket.destroy();
  }

  #cycle(): void {
    const { host, port, size, pattern } = this.#ctx;
    this.#cycleStart = performance.now();
    this.lastProgress = this.#cycleStart;
    this.#received = 0;
    this.#failed = false;
    this.#start = pattern.randomStart();
    let connected = false;
    const socket = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
    this.#socket = socket;
    socket.on('connect', () => {
      connected = true;
      if (this.#ctx.stats.counting) this.#ctx.stats.bytesSent += size;
      socket.write(pattern.window(this.#start, 0, size));
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      if (this.#received < size) return this.fail('short', `the server closed after ${this.#received} of ${size} bytes`);
      this.#ctx.stats.recordMessage(performance.now() - this.#cycleStart);
      if (this.#ctx.stats.counting) this.#ctx.stats.connections++;
      socket.destroy();
    });
    socket.on('error', (err) => {
      const code = systemCode(err);
      const kind = !connected ? 'connect' : code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error';
      this.fail(kind, code ?? err.message);
    });
    socket.on('close', () => {
      this.#socket = undefined;
      if (this.#issuing) this.#cycle();
      else this.#resolveStopped();
    });
  }

  #onData(chunk: Buffer): void {
    const { size, pattern, stats } = this.#ctx;
    if (this.#received + chunk.length > size) return this.fail('mismatch', 'received more bytes than were sent');
    if (!pattern.matches(this.#start, this.#received, chunk)) return this.fail('mismatch', 'echoed bytes differ from those sent');
    this.#received += chunk.length;
    if (stats.counting) stats.bytesReceived += chunk.length;
    this.lastProgress = performance.now();
    // The whole echo is back: half-close and wait for the server's FIN.
    if (this.#received === size) this.#socket?.end();
  }
}
