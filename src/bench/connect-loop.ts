import type net from 'node:net';
import type tls from 'node:tls';
import { connectTimeoutError } from '../connect-errors.js';
import { systemCode, type TcpechoError } from '../errors.js';
import { connectFailure, openSocket, readyEvent, refusal } from './open-socket.js';
import type { LoadWorker } from './load-worker.js';
import type { ErrorKind } from './types.js';
import type { LoadContext } from './verified-connection.js';

/**
 * `--mode connect`: one slot of the connection-rate test. It loops: connect, send one message,
 * check its echo, half-close, wait for the server's FIN, close. Each cycle is one connection and
 * one message; its latency runs from the connect call to the last byte of the echo (what a client
 * waits for: in fork mode, a process start when no spare is ready). With `repeat` false it does
 * one cycle (the arrivals of `--rate`). A connect that takes longer than `ctx.timeoutMs` is a
 * `connect` error, as is any failure before the connection is made.
 *
 * With TLS each cycle is a full handshake, its latency included; with `tlsResume` each cycle
 * offers the session its loop's last connection received (TLS 1.3: the server's ticket), and the
 * cycles the server resumed are counted.
 */
export class ConnectLoop implements LoadWorker {
  readonly #ctx: LoadContext;
  #issuing = true;
  #socket: net.Socket | undefined;
  #connected = false;
  #connectTimer: NodeJS.Timeout | undefined;
  #cycleStart = 0;
  #received = 0;
  #start = 0;
  #failed = false;
  /** The session ticket of this loop's last TLS connection, offered by the next (`tlsResume`). */
  #session: Buffer | undefined;
  /** This cycle's TLS session was resumed. */
  #resumed = false;
  lastProgress = performance.now();
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  readonly #repeat: boolean;

  constructor(ctx: LoadContext, repeat = true) {
    this.#ctx = ctx;
    this.#repeat = repeat;
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  /** Done for good: stopped, or a single cycle that has ended. */
  get finished(): boolean {
    return this.#socket === undefined && (!this.#issuing || !this.#repeat);
  }

  /** 1 while a connected cycle waits for its echo or FIN (the watchdog's concern); a connect has its own timer. */
  get outstanding(): number {
    return this.#socket !== undefined && this.#connected ? 1 : 0;
  }

  /** A cycle is under way, connecting or connected. */
  get busy(): boolean {
    return this.#socket !== undefined;
  }

  begin(): void {
    this.#cycle();
  }

  /** Each cycle waits for its own echo: nothing to wait for before the warm-up. */
  firstEcho(): Promise<void> {
    return Promise.resolve();
  }

  /** Each cycle half-closes and waits for the FIN itself. */
  finish(): Promise<void> {
    return Promise.resolve();
  }

  /** Let the cycle under way finish, start no other; resolves when it is done. */
  stopIssuing(): Promise<void> {
    this.#issuing = false;
    if (this.#socket === undefined) this.#resolveStopped();
    return this.#stopped;
  }

  fail(kind: ErrorKind, detail: string): void {
    if (this.#failed || this.#socket === undefined) return;
    this.#failed = true;
    clearTimeout(this.#connectTimer);
    // Before the connection is made, whatever ends the attempt is a failure to connect.
    this.#ctx.stats.recordError(this.#connected ? kind : 'connect', detail);
    // A slot that failed stops: a broken server is reported, not hammered.
    this.#issuing = false;
    this.#socket.destroy();
  }

  #cycle(): void {
    const { where, size, pattern, timeoutMs, opening } = this.#ctx;
    this.#cycleStart = performance.now();
    this.lastProgress = this.#cycleStart;
    this.#received = 0;
    this.#failed = false;
    this.#connected = false;
    this.#start = pattern.randomStart();
    this.#resumed = false;
    const socket = openSocket(this.#ctx, undefined, this.#ctx.tlsResume ? this.#session : undefined);
    this.#socket = socket;
    this.#connectTimer = setTimeout(() => this.#connectFailed(connectTimeoutError(where, timeoutMs)), timeoutMs).unref();
    let tcpConnected = false;
    if (this.#ctx.tls !== undefined) socket.once('connect', () => (tcpConnected = true));
    if (this.#ctx.tlsResume) socket.on('session', (session: Buffer) => (this.#session = session));
    socket.once(readyEvent(this.#ctx), () => {
      clearTimeout(this.#connectTimer);
      const refused = refusal(this.#ctx, socket);
      if (refused !== undefined) return this.#connectFailed(refused);
      this.#connected = true;
      if (this.#ctx.tls !== undefined) this.#resumed = (socket as tls.TLSSocket).isSessionReused();
      opening.connected();
      this.#ctx.stats.sent(size);
      socket.write(pattern.window(this.#start, 0, size));
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      if (this.#received < size) return this.fail('short', `the server closed after ${this.#received} of ${size} bytes`);
      if (this.#ctx.stats.counting) {
        this.#ctx.stats.connections++;
        if (this.#resumed) this.#ctx.stats.tlsResumed++;
      }
      socket.destroy();
    });
    socket.on('error', (err) => {
      if (!this.#connected) return this.#connectFailed(connectFailure(this.#ctx, socket, err, tcpConnected));
      const code = systemCode(err);
      this.fail(code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error', code ?? err.message);
    });
    socket.on('close', () => {
      clearTimeout(this.#connectTimer);
      this.#socket = undefined;
      if (this.#issuing && this.#repeat) this.#cycle();
      else this.#resolveStopped();
    });
  }

  #connectFailed(error: TcpechoError): void {
    if (this.#failed || this.#socket === undefined) return;
    this.fail('connect', error.message);
    this.#ctx.opening.failed(error);
  }

  #onData(chunk: Buffer): void {
    const { size, pattern, stats } = this.#ctx;
    if (this.#received + chunk.length > size) return this.fail('mismatch', 'received more bytes than were sent');
    if (!pattern.matches(this.#start, this.#received, chunk)) return this.fail('mismatch', 'echoed bytes differ from those sent');
    this.#received += chunk.length;
    stats.received(chunk.length);
    this.lastProgress = performance.now();
    // The whole echo is back: half-close and wait for the server's FIN.
    if (this.#received === size) {
      stats.recordMessage(this.lastProgress - this.#cycleStart);
      this.#socket?.end();
    }
  }
}

/**
 * `--rate`: a new single-cycle connection every 1/rate seconds (an open loop: arrivals do not
 * wait for the server), at most `max` under way. Each arrival joins `workers`, so the run's
 * watchdog and drain see it; finished ones are pruned as new ones come.
 */
export class Arrivals {
  readonly #ctx: LoadContext;
  readonly #intervalMs: number;
  readonly #max: number;
  readonly #workers: LoadWorker[];
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: LoadContext, rate: number, max: number, workers: LoadWorker[]) {
    this.#ctx = ctx;
    this.#intervalMs = 1000 / rate;
    this.#max = max;
    this.#workers = workers;
  }

  start(): void {
    this.#timer = setInterval(() => this.#arrive(), this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #arrive(): void {
    for (let i = this.#workers.length - 1; i >= 0; i--) {
      const worker = this.#workers[i];
      if (worker instanceof ConnectLoop && worker.finished) this.#workers.splice(i, 1);
    }
    if (this.#workers.length >= this.#max) return;
    const arrival = new ConnectLoop(this.#ctx, false);
    this.#workers.push(arrival);
    arrival.begin();
  }
}
