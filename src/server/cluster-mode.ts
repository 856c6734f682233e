import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { formatAddress } from '../options.js';
import type { ConnectionOpen } from './connection-events.js';
import { isWorkerMessage, type ClusterWorkerConfig, type PrimaryMessage } from './cluster-protocol.js';
import type { EchoServer, EchoServerAddress, EchoServerEvents, ServerMode } from './echo-server.js';
import { listenOn, listeningAddress } from './listen.js';

const WORKER_ENTRY = fileURLToPath(new URL('./cluster-worker.js', import.meta.url));

/** How connections reach workers. */
export const BALANCES = ['rr', 'shared'] as const;
export type Balance = (typeof BALANCES)[number];

export interface ClusterOptions {
  port: number;
  host: string | undefined;
  backlog: number;
  workers: number;
  balance: Balance;
  maxConnections: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
}

interface Worker {
  index: number;
  child: ChildProcess;
  ready: boolean;
  /** Connections this worker has opened and not yet closed, by id. */
  open: Map<number, ConnectionOpen>;
}

/** Crashes within this window count towards the restart backoff. */
const CRASH_WINDOW_MS = 10_000;
const KILL_GRACE_MS = 2000;

/**
 * `--mode cluster`: a primary process and `workers` worker processes, each running the same
 * per-connection echo as event mode. The primary owns the listening socket and supervises: a
 * worker that dies is replaced, with a growing delay when they keep dying.
 *
 * `balance: 'rr'`: the primary accepts (without reading) and hands each connection to the next
 * worker. `balance: 'shared'`: the workers accept on the primary's listening socket themselves;
 * the primary forwards the few it wins the race for. See the README for the measurements.
 */
export class ClusterEchoServer extends EventEmitter<EchoServerEvents> implements EchoServer {
  readonly mode: ServerMode = 'cluster';
  readonly #options: ClusterOptions;
  readonly #server: net.Server;
  readonly #workers: Array<Worker | undefined>;
  readonly #waiting: net.Socket[] = [];
  readonly #crashes: number[] = [];
  #next = 0;
  #rejected = 0;
  #stopping = false;
  #closing: Promise<void> | undefined;
  #allReady: (() => void) | undefined;

  /** @internal use startEchoServer({ mode: 'cluster' }) */
  constructor(options: ClusterOptions) {
    super();
    this.#options = options;
    this.#workers = Array.from({ length: options.workers }, () => undefined);
    this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    this.#server.on('connection', (socket) => this.#route(socket));
  }

  get address(): EchoServerAddress {
    return listeningAddress(this.#server);
  }

  get url(): string {
    return formatAddress(this.address.host, this.address.port);
  }

  get connections(): number {
    let open = this.#waiting.length;
    for (const worker of this.#workers) open += worker?.open.size ?? 0;
    return open;
  }

  /** The workers' pids. */
  get childPids(): number[] {
    return this.#workers.flatMap((w) => (w?.child.pid === undefined ? [] : [w.child.pid]));
  }

  get sparePids(): number[] {
    return [];
  }

  get rejectedConnections(): number {
    return this.#rejected;
  }

  /** @internal Listens, starts every worker, resolves when all of them are serving. */
  async start(): Promise<void> {
    await listenOn(this.#server, this.#options.port, this.#options.host, this.#options.backlog);
    this.#server.on('error', (err) => this.emit('warning', err));
    const ready = new Promise<void>((resolve) => (this.#allReady = resolve));
    for (let i = 0; i < this.#options.workers; i++) this.#startWorker(i);
    await ready;
  }

  close(): Promise<void> {
    this.#closing ??= this.#drain(this.#options.drainTimeoutMs);
    return this.#closing;
  }

  destroy(): void {
    this.#stopping = true;
    this.#server.close();
    for (const socket of this.#waiting.splice(0)) socket.destroy();
    for (const worker of this.#workers) worker?.child.kill('SIGKILL');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #drain(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#server.close();
    for (const socket of this.#waiting.splice(0)) socket.destroy();
    const exits = this.#workers.map((worker) => {
      if (worker === undefined || worker.child.exitCode !== null || worker.child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        worker.child.once('exit', () => resolve());
        this.#tell(worker, { type: 'drain', timeoutMs });
        // Past the deadline and a grace period, a worker that has not exited is killed.
        setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs + KILL_GRACE_MS).unref();
      });
    });
    await Promise.all(exits);
  }

  #startWorker(index: number): void {
    const { workers, idleTimeoutMs, maxConnections } = this.#options;
    const config: ClusterWorkerConfig = { index, workers, idleTimeoutMs, maxConnections: Math.ceil(maxConnections / workers) };
    const child = fork(WORKER_ENTRY, [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], serialization: 'json' });
    const worker: Worker = { index, child, ready: false, open: new Map() };
    this.#workers[index] = worker;
    child.on('error', (err) => {
      if (child.pid === undefined) {
        this.emit('warning', new Error(`cannot start worker ${index}: ${err.message}`, { cause: err }));
        this.#workerOnExit(worker, null, null);
      }
    });
    child.on('message', (message) => this.#workerOnMessage(worker, message));
    child.once('exit', (code, signal) => this.#workerOnExit(worker, code, signal));
  }

  #workerOnMessage(worker: Worker, message: unknown): void {
    if (!isWorkerMessage(message)) return;
    switch (message.type) {
      case 'ready':
        worker.ready = true;
        if (this.#options.balance === 'shared') this.#tell(worker, { type: 'listen' }, this.#server);
        for (const socket of this.#waiting.splice(0)) this.#route(socket);
        if (this.#workers.every((w) => w?.ready)) {
          this.#allReady?.();
          this.#allReady = undefined;
        }
        break;
      case 'open':
        worker.open.set(message.info.id, message.info);
        this.emit('open', message.info);
        break;
      case 'close':
        worker.open.delete(message.info.id);
        this.emit('close', message.info);
        break;
      case 'reject':
        this.#rejected++;
        this.emit('reject', { remoteAddress: message.remoteAddress, remotePort: message.remotePort, reason: 'max-connections', rejected: this.#rejected });
        break;
      case 'warning':
        this.emit('warning', new Error(`worker ${String(worker.child.pid)}: ${message.message}`));
        break;
    }
  }

  #workerOnExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#workers[worker.index] !== worker) return;
    this.#workers[worker.index] = undefined;
    // Its clients saw their connections close with the process; report them.
    for (const info of worker.open.values()) {
      this.emit('close', { ...info, bytesRead: 0, bytesWritten: 0, durationMs: 0, reason: 'child-exit', childExit: signal ?? `code ${String(code)}` });
    }
    if (this.#stopping) return;
    const now = Date.now();
    this.#crashes.push(now);
    while (this.#crashes.length > 0 && (this.#crashes[0] as number) < now - CRASH_WINDOW_MS) this.#crashes.shift();
    // The first crash is replaced at once; more within the window wait 100 ms, 200 ms, ... 5 s.
    const delayMs = this.#crashes.length <= 1 ? 0 : Math.min(100 * 2 ** (this.#crashes.length - 2), 5000);
    this.emit('warning', new Error(`worker ${String(worker.child.pid)} exited (${signal ?? `code ${String(code)}`}); restarting it${delayMs ? ` in ${delayMs} ms` : ''}`));
    setTimeout(() => {
      if (!this.#stopping) this.#startWorker(worker.index);
    }, delayMs).unref();
  }

  /** Hands an accepted socket to the next ready worker, or holds it until one is ready. */
  #route(socket: net.Socket): void {
    socket.on('error', () => {});
    const count = this.#workers.length;
    for (let tried = 0; tried < count; tried++) {
      const worker = this.#workers[this.#next++ % count];
      if (worker?.ready) {
        worker.child.send({ type: 'socket' } satisfies PrimaryMessage, socket, { keepOpen: false }, (err) => {
          // The worker died before taking it: close it rather than leave the client hanging.
          if (err) socket.destroy();
        });
        return;
      }
    }
    if (this.#stopping) socket.destroy();
    else this.#waiting.push(socket);
  }

  #tell(worker: Worker, message: PrimaryMessage, handle?: net.Server): void {
    if (!worker.child.connected) return;
    if (handle) worker.child.send(message, handle, () => {});
    else worker.child.send(message, () => {});
  }
}
