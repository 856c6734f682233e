import type net from 'node:net';
import { connectTimeoutError } from '../connect-errors.js';
import { systemCode } from '../errors.js';
import { halfClose } from '../half-close.js';
import { connectFailure, openSocket, readyEvent, refusal, type TlsSettings } from './open-socket.js';
import type { Opening } from './opening.js';
import type { LoadWorker } from './load-worker.js';
import type { Pattern } from './pattern.js';
import type { Stats } from './stats.js';
import type { ErrorKind } from './types.js';
import type { WriteBatch } from '../write-batch.js';

/** What every load connection shares: where to connect, what to send, where to count. */
export interface LoadContext {
  host: string;
  /** Only addresses of this family for `host`; any when undefined. */
  family: 4 | 6 | undefined;
  port: number;
  /** Node's path of the Unix socket to connect to instead of `host` and `port` (`\0name` for `@name`). */
  path: string | undefined;
  /** formatAddress(host, port), or `unix:PATH`. */
  where: string;
  /**
   * A connect (with TLS, the handshake included) that takes longer is a `connect` error; an echo
   * that stalls longer, a `timeout`.
   */
  timeoutMs: number;
  /** TLS over every connection, checked; undefined for plain TCP. */
  tls: TlsSettings | undefined;
  /** Connect mode with TLS: each loop resumes the session of its last connection. */
  tlsResume: boolean;
  /** Where every connect attempt reports whether it got through. */
  opening: Opening;
  pattern: Pattern;
  stats: Stats;
  /** Bytes per message (per write in stream mode). */
  size: number;
  /** Messages in flight per connection (ping-pong). */
  pipeline: number;
  /**
   * Where every connection's reads land. One buffer serves them all: each read is checked
   * synchronously in its callback, before the next read can overwrite it.
   */
  readBuffer: Buffer;
  /**
   * Where ping-pong writes wait for the end of the event loop's turn. Undefined with one
   * connection: nothing to batch with, and waiting would only add to its latency.
   */
  writes: WriteBatch | undefined;
}

/** The address part of `net.connect`'s options: the Unix socket, or the host, port and family. */
export function connectTarget(ctx: LoadContext): { path: string } | { host: string; port: number; family?: 4 | 6 } {
  if (ctx.path !== undefined) return { path: ctx.path };
  return ctx.family === undefined ? { host: ctx.host, port: ctx.port } : { host: ctx.host, port: ctx.port, family: ctx.family };
}

/**
 * One long-lived load connection whose every received byte is checked against what was sent at
 * that stream position. Subclasses decide when to send (ping-pong: after each echo; stream:
 * whenever the socket takes more). A failure is counted by kind and ends the connection; it is
 * not replaced.
 */
export abstract class VerifiedConnection implements LoadWorker {
  protected readonly ctx: LoadContext;
  protected readonly socket: net.Socket;
  protected readonly start: number;
  /** Stream position: bytes written so far. */
  protected sent = 0;
  /** Stream position: bytes received and verified so far. */
  protected received = 0;
  /** New work may be started (false once the run's window has ended). */
  protected issuing = true;
  /** performance.now() of the last byte received (or the last send when idle before it). */
  lastProgress = performance.now();
  #failed = false;
  #closed = false;
  #connected = false;
  #connectTimer: NodeJS.Timeout | undefined;
  /** The server's FIN came with bytes still owed: a `short` echo, unless a reset explains it. */
  #earlyEnd: string | undefined;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;
  #onIdle: (() => void) | undefined;
  #onFirstEcho: (() => void) | undefined;

  constructor(ctx: LoadContext) {
    this.ctx = ctx;
    this.start = ctx.pattern.randomStart();
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    // Reads land in one reused buffer and come straight to us: no Buffer allocated per read and
    // no trip through the Readable stream machinery (a third of the generator's own CPU). A
    // TLSSocket takes `onread` too, for its decrypted bytes.
    this.socket = openSocket(ctx, { buffer: ctx.readBuffer, callback: (n: number, buffer: Uint8Array) => this.#onData(buffer as Buffer, n) });
    this.#connectTimer = setTimeout(() => this.#connectTimedOut(), ctx.timeoutMs).unref();
    let tcpConnected = false;
    if (ctx.tls !== undefined) this.socket.once('connect', () => (tcpConnected = true));
    this.socket.once(readyEvent(ctx), () => {
      clearTimeout(this.#connectTimer);
      const refused = refusal(ctx, this.socket);
      if (refused !== undefined) {
        this.fail('connect', refused.message);
        ctx.opening.failed(refused);
        return;
      }
      this.#connected = true;
      ctx.opening.connected();
    });
    this.socket.on('error', (err) => {
      if (this.#connected) return this.fail(this.#kindOf(err), `${systemCode(err) ?? err.message}`);
      const error = connectFailure(ctx, this.socket, err, tcpConnected);
      this.fail('connect', error.message);
      ctx.opening.failed(error);
    });
    this.socket.on('close', () => {
      clearTimeout(this.#connectTimer);
      if (this.#earlyEnd !== undefined) this.fail('short', this.#earlyEnd);
      this.#closed = true;
      this.#resolveClosed();
      this.#onIdle?.();
      this.#onFirstEcho?.();
    });
  }

  /** Resolves once connected; a failure to connect is counted and resolves false. */
  connected(): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.#failed) return resolve(false);
      this.socket.once(readyEvent(this.ctx), () => {
        // A pinned fingerprint that does not match has failed it just now.
        if (this.#failed) return resolve(false);
        this.socket.on('end', () => this.#onEnd());
        resolve(true);
      });
      this.socket.once('close', () => resolve(false));
    });
  }

  /**
   * Resolves once the first echo has come back (or the connection is gone): in fork mode, once the
   * connection's process is up. The warm-up starts only when every connection is served.
   */
  firstEcho(): Promise<void> {
    if (this.received > 0 || !this.active) return Promise.resolve();
    return new Promise((resolve) => (this.#onFirstEcho = resolve));
  }

  /** Bytes sent and not yet echoed. */
  get outstanding(): number {
    return this.sent - this.received;
  }

  get active(): boolean {
    return !this.#failed && !this.#closed;
  }

  abstract begin(): void;

  /** Called after each verified chunk, with the new `received` position. */
  protected abstract onVerified(now: number): void;

  /** Stop starting new work; resolves when nothing is outstanding (or the connection is gone). */
  stopIssuing(): Promise<void> {
    this.issuing = false;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.outstanding === 0 || !this.active) {
          this.#onIdle = undefined;
          resolve();
        }
      };
      this.#onIdle = check;
      check();
    });
  }

  /**
   * Half-close and wait for the server's FIN; counts `no-fin` when it does not come within `ms`.
   * Resolves within `ms` whatever happens: the wait ends at the deadline, not at the 'close' that
   * the destroy leads to.
   */
  async finish(ms: number): Promise<void> {
    if (!this.active) return;
    // The echo of what was sent may still be on its way (a stream run's last writes).
    halfClose(this.socket);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.fail('no-fin', `no FIN from the server within ${ms} ms of our half-close`);
        resolve();
      }, ms).unref();
    });
    await Promise.race([this.#closedPromise, late]);
    clearTimeout(timer);
  }

  get busy(): boolean {
    return this.active && this.outstanding > 0;
  }

  /** Done for good: failed or closed. */
  get finished(): boolean {
    return !this.active;
  }

  fail(kind: ErrorKind, detail: string): void {
    if (this.#failed || this.#closed) return;
    this.#failed = true;
    clearTimeout(this.#connectTimer);
    // Before the connection is made, whatever ends the attempt is a failure to connect.
    this.ctx.stats.recordError(this.#connected ? kind : 'connect', detail);
    this.socket.destroy();
  }

  #connectTimedOut(): void {
    const error = connectTimeoutError(this.ctx.where, this.ctx.timeoutMs);
    this.fail('connect', error.message);
    this.ctx.opening.failed(error);
  }

  /** Writes the next `n` bytes of this connection's stream; `now` is performance.now(). */
  protected send(n: number, now: number): boolean {
    return this.socket.write(this.#next(n, now));
  }

  /** Like send(), but the write is made with the rest of this turn's, when there is a WriteBatch. */
  protected sendBatched(n: number, now: number): void {
    const data = this.#next(n, now);
    if (this.ctx.writes === undefined) this.socket.write(data);
    else this.ctx.writes.add(this.socket, data);
  }

  /** The next `n` bytes of this connection's stream, counted as sent. */
  #next(n: number, now: number): Buffer {
    const data = this.ctx.pattern.window(this.start, this.sent, n);
    // The timeout clock starts when something is outstanding.
    if (this.sent === this.received) this.lastProgress = now;
    this.sent += n;
    this.ctx.stats.sent(n);
    return data;
  }

  /** `length` bytes have arrived at the start of the shared `buffer`: check and count them. */
  #onData(buffer: Buffer, length: number): boolean {
    if (this.received + length > this.sent) {
      this.fail('mismatch', `received ${this.received + length - this.sent} bytes more than were sent`);
      return false;
    }
    if (!this.ctx.pattern.matches(this.start, this.received, buffer, length)) {
      this.fail('mismatch', `echoed bytes differ from those sent, within stream bytes ${this.received}..${this.received + length}`);
      return false;
    }
    this.received += length;
    if (this.#onFirstEcho !== undefined) {
      this.#onFirstEcho();
      this.#onFirstEcho = undefined;
    }
    this.ctx.stats.received(length);
    const now = performance.now();
    this.lastProgress = now;
    this.onVerified(now);
    if (this.outstanding === 0) this.#onIdle?.();
    return true;
  }

  #onEnd(): void {
    if (this.outstanding > 0 || this.issuing) {
      // Not judged yet. When a write has already taken the kernel's ECONNRESET, the next read
      // returns plain EOF and Node reports this 'end' before that write's error: end our side and
      // let 'error' (a reset) or 'close' (a short echo) decide.
      this.#earlyEnd = `the server closed with ${this.outstanding} bytes not echoed`;
      this.issuing = false;
    }
    this.socket.end();
  }

  #kindOf(err: Error): ErrorKind {
    const code = systemCode(err);
    // After the server's FIN, our writes draw its RST: EPIPE. The server quit early, it did not reset.
    if (this.#earlyEnd !== undefined && code !== 'ECONNRESET') return 'short';
    if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
    return 'error';
  }
}
