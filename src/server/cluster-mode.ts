import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { WorkerStartError } from '../errors.js';
import { UNIX_PEER_ADDRESS } from '../unix-path.js';
import { AddressRules } from './address-rules.js';
import type { ConnectionClose, ConnectionOpen } from './connection-events.js';
import { isWorkerMessage, type ClusterWorkerConfig, type PrimaryMessage } from './cluster-protocol.js';
import { addressUrl, isUnixTarget, listenOn, listeningAddress, type ListenTarget } from './listen.js';
import { RestartBackoff } from './restart-backoff.js';
import { closeListener, Shutdown } from './shutdown.js';
import { LiveProcesses } from './live-processes.js';
import type { Balance, CloseOptions, ConnectionReject, EchoServer, EchoServerAddress, EchoServerEvents, ServerMode } from './types.js';
import { startMetricsEndpoint, type MetricsEndpoint, type MetricsEndpointOptions } from './metrics-endpoint.js';
import { ServerCounters, type EchoServerMetrics } from './server-counters.js';
import { WaitingClients } from './waiting-clients.js';
import type { EchoSettings } from './echo-settings.js';
import { broadcastFaults } from './faults/fault-broadcast.js';
import { faultsInForce, type Faults } from './faults/faults.js';

const WORKER_ENTRY = fileURLToPath(new URL('./cluster-worker.js', import.meta.url));

export interface ClusterOptions {
  listen: ListenTarget;
  workers: number;
  balance: Balance;
  maxConnections: number;
  drainTimeoutMs: number;
  settings: EchoSettings;
  tlsFingerprint: string | undefined;
  allow: string[];
  deny: string[];
}

interface Worker {
  index: number;
  child: ChildProcess;
  ready: boolean;
  /** Connections this worker has opened and not yet closed, by id. */
  open: Map<number, ConnectionOpen>;
  /** With the PROXY protocol: connections it has taken and not yet opened (the header not read), by id. */
  accepted: Map<number, ConnectionOpen>;
}

/** A client the primary accepted while no worker was ready. */
interface Waiting {
  socket: net.Socket;
  queuedAt: number;
}

/** Crashes within this window count towards the restart backoff. */
const CRASH_WINDOW_MS = 10_000;
const KILL_GRACE_MS = 2000;
/** While starting, this many workers in a row exiting before they are ready fail the start. */
const START_ATTEMPTS = 3;

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
  readonly #rules: AddressRules | undefined;
  readonly #workers: Array<Worker | undefined>;
  readonly #waiting = new WaitingClients<Waiting>((client) => this.#waitingOnGone(client));
  readonly #crashes = new RestartBackoff({ windowMs: CRASH_WINDOW_MS });
  readonly #processes = new LiveProcesses();
  /** Restarts waiting out their backoff. */
  readonly #restarts = new Set<NodeJS.Timeout>();
  readonly #shutdown = new Shutdown((forced) => this.#stop(forced));
  readonly #counters = new ServerCounters();
  #metricsEndpoint: MetricsEndpoint | undefined;
  #next = 0;
  #rejected = 0;
  #stopping = false;
  /** Workers in a row that exited before they were ready. */
  #deathsBeforeReady = 0;
  /** Settles start() while it waits for every worker. */
  #starting: { resolve: () => void; reject: (err: Error) => void } | undefined;

  /** @internal use startEchoServer({ mode: 'cluster' }) */
  constructor(options: ClusterOptions) {
    super();
    // A copy of the settings: setFaults changes what replacement workers start with.
    this.#options = { ...options, settings: { ...options.settings } };
    this.#workers = Array.from({ length: options.workers }, () => undefined);
    this.#rules = AddressRules.from(options.allow, options.deny);
    this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    this.#server.on('connection', (socket) => this.#admit(socket));
  }

  get address(): EchoServerAddress {
    return listeningAddress(this.#server, this.#options.listen);
  }

  get url(): string {
    return addressUrl(this.address);
  }

  get connections(): number {
    let open = this.#waiting.length;
    for (const worker of this.#workers) open += (worker?.open.size ?? 0) + (worker?.accepted.size ?? 0);
    return open;
  }

  get closing(): boolean {
    return this.#shutdown.started;
  }

  /** The workers' pids. */
  get childPids(): number[] {
    return this.#workers.flatMap((w) => (w?.child.pid === undefined ? [] : [w.child.pid]));
  }

  get sparePids(): number[] {
    return [];
  }

  get tlsFingerprint(): string | undefined {
    return this.#options.tlsFingerprint;
  }

  getFaults(): Faults {
    return { ...this.#options.settings.faults };
  }

  /** Workers started later (replacements) start with these; every worker alive has them before this resolves. */
  async setFaults(faults: Faults): Promise<void> {
    this.#options.settings.faults = faultsInForce(faults);
    await broadcastFaults(this.#processes, this.#options.settings.faults);
  }

  clearFaults(): Promise<void> {
    return this.setFaults({});
  }

  /** Connections closed at once: `maxConnections` were open, or `allow`/`deny` refused the address. */
  get rejectedConnections(): number {
    return this.#rejected;
  }

  metrics(): EchoServerMetrics {
    const figures = this.#counters.snapshot(this.mode, this.connections);
    figures.cluster = { workers: this.childPids.length, workerRestarts: this.#counters.workerRestarts };
    return figures;
  }

  get metricsUrl(): string | undefined {
    return this.#metricsEndpoint?.url;
  }

  /**
   * @internal Listens, starts every worker, resolves when all of them are serving. Rejects with
   * `WorkerStartError` when workers keep exiting before they are ready; then starts the metrics
   * endpoint, if asked. Whatever way it rejects, nothing it started is left running.
   */
  async start(metrics?: MetricsEndpointOptions): Promise<void> {
    try {
      await listenOn(this.#server, this.#options.listen);
      this.#server.on('error', (err) => this.emit('warning', err));
      await new Promise<void>((resolve, reject) => {
        this.#starting = { resolve, reject };
        for (let i = 0; i < this.#options.workers; i++) this.#startWorker(i);
      });
      if (metrics !== undefined) this.#metricsEndpoint = await startMetricsEndpoint(this, metrics);
    } catch (err) {
      await this.destroy();
      throw err;
    } finally {
      this.#starting = undefined;
    }
  }

  close(options: CloseOptions = {}): Promise<void> {
    return this.#shutdown.start(options.force === true);
  }

  destroy(): Promise<void> {
    return this.#shutdown.start(true);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }

  /** Drains the workers (each lets its connections finish), or kills them at once when forced. */
  async #stop(forced: Promise<void>): Promise<void> {
    this.#stopping = true;
    const listenerClosed = closeListener(this.#server);
    for (const timer of this.#restarts) clearTimeout(timer);
    this.#restarts.clear();
    for (const { socket } of this.#waiting.clear()) socket.destroy();
    const { drainTimeoutMs } = this.#options;
    for (const worker of this.#workers) if (worker !== undefined) this.#tell(worker, { type: 'drain', timeoutMs: drainTimeoutMs });
    let deadline: NodeJS.Timeout | undefined;
    // Past the deadline and a grace period, or when forced, a worker that has not exited is killed.
    const late = new Promise<void>((resolve) => (deadline = setTimeout(resolve, drainTimeoutMs + KILL_GRACE_MS).unref()));
    const exited = this.#processes.allGone();
    await Promise.race([exited, forced, late]);
    clearTimeout(deadline);
    for (const child of this.#processes) child.kill('SIGKILL');
    await exited;
    await listenerClosed;
    // Last: /readyz says 503 and /metrics serves the drain's figures until the drain is over.
    await this.#metricsEndpoint?.close();
    this.emit('close');
  }

  #startWorker(index: number): void {
    const { workers, maxConnections, settings, allow, deny } = this.#options;
    const config: ClusterWorkerConfig = { index, workers, maxConnections: Math.ceil(maxConnections / workers), settings, unix: isUnixTarget(this.#options.listen), allow, deny };
    const child = fork(WORKER_ENTRY, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], serialization: 'json' });
    // Its first message; it says it is ready only once it has it.
    // (No channel when the worker could not be started at all: its 'error' says so.)
    if (child.connected) child.send({ type: 'config', config } satisfies PrimaryMessage, ignoreError);
    const worker: Worker = { index, child, ready: false, open: new Map(), accepted: new Map() };
    this.#workers[index] = worker;
    this.#processes.add(child);
    child.on('error', (err) => {
      if (child.pid === undefined) {
        this.emit('warning', new Error(`cannot start worker ${index}: ${err.message}`, { cause: err }));
        this.#processes.gone(child);
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
        this.#deathsBeforeReady = 0;
        if (this.#options.balance === 'shared') this.#tell(worker, { type: 'listen' }, this.#server);
        for (let waiting = this.#waiting.shift(); waiting !== undefined; waiting = this.#waiting.shift()) this.#route(waiting.socket);
        if (this.#workers.every((w) => w?.ready)) this.#starting?.resolve();
        break;
      case 'accepted':
        worker.accepted.set(message.info.id, message.info);
        break;
      case 'open':
        worker.accepted.delete(message.info.id);
        worker.open.set(message.info.id, message.info);
        this.#counters.opened();
        this.emit('connection', message.info);
        break;
      case 'close':
        worker.accepted.delete(message.info.id);
        worker.open.delete(message.info.id);
        this.#disconnect(message.info);
        break;
      case 'reject':
        this.#reject(message.remoteAddress, message.remotePort, message.reason);
        break;
      case 'warning':
        this.emit('warning', new Error(`worker ${String(worker.child.pid)}: ${message.message}`));
        break;
    }
  }

  #workerOnExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#workers[worker.index] !== worker) return;
    this.#workers[worker.index] = undefined;
    const how = signal ?? `code ${String(code)}`;
    // Its clients saw their connections close with the process; report them. One still waiting
    // for its PROXY header has its `connection` event first, with the balancer's address, as a
    // connection whose header failed does.
    const lost = (info: ConnectionOpen): void => this.#disconnect({ ...info, bytesRead: 0, bytesWritten: 0, durationMs: 0, reason: 'child-exit', childExit: how });
    for (const info of worker.accepted.values()) {
      this.#counters.opened();
      this.emit('connection', info);
      lost(info);
    }
    for (const info of worker.open.values()) lost(info);
    if (this.#stopping) return;
    if (!worker.ready) this.#deathsBeforeReady++;
    if (this.#starting !== undefined && this.#deathsBeforeReady >= START_ATTEMPTS) {
      this.#starting.reject(new WorkerStartError(`Cannot start cluster workers: ${this.#deathsBeforeReady} in a row exited before they were ready (the last: ${how})`));
      return;
    }
    // The first crash is replaced at once; more within the window wait 100 ms, 200 ms, ... 5 s.
    const delayMs = this.#crashes.failure();
    this.emit('warning', new Error(`worker ${String(worker.child.pid)} exited (${how}); restarting it${delayMs ? ` in ${delayMs} ms` : ''}`));
    const restart = setTimeout(() => {
      this.#restarts.delete(restart);
      if (this.#stopping) return;
      this.#counters.workerRestarts++;
      this.#startWorker(worker.index);
    }, delayMs).unref();
    this.#restarts.add(restart);
  }

  /**
   * A connection the primary accepted (every one with `rr`, the few it wins with `shared`): refused
   * on its address alone before any worker sees it, else routed.
   */
  #admit(socket: net.Socket): void {
    const { remoteAddress, remotePort } = socket;
    if (this.#rules !== undefined && !this.#rules.allows(remoteAddress ?? '')) {
      socket.on('error', ignoreError);
      socket.destroy();
      if (remoteAddress === undefined || remotePort === undefined) return;
      this.#reject(remoteAddress, remotePort, this.#options.settings.proxyProtocol === true ? 'proxy-untrusted' : 'denied');
      return;
    }
    this.#route(socket);
  }

  /** Hands an accepted socket to the next ready worker, or holds it until one is ready. */
  #route(socket: net.Socket): void {
    socket.on('error', ignoreError);
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
    if (this.#stopping) return void socket.destroy();
    const { remoteAddress, remotePort } = this.#peer(socket);
    if (this.connections >= this.#options.maxConnections) {
      // No worker to take it, and as many waiting or served as the limit allows.
      socket.destroy();
      if (remoteAddress === undefined || remotePort === undefined) return;
      this.#reject(remoteAddress, remotePort, 'max-connections');
      return;
    }
    this.#waiting.push({ socket, queuedAt: performance.now() });
  }

  /** A client that left while no worker was ready: no worker ever saw it, so it has no id (0). */
  #waitingOnGone({ socket, queuedAt }: Waiting): void {
    const { remoteAddress, remotePort } = this.#peer(socket);
    this.#disconnect({
      id: 0,
      remoteAddress: remoteAddress ?? '',
      remotePort: remotePort ?? 0,
      bytesRead: 0,
      bytesWritten: 0,
      durationMs: performance.now() - queuedAt,
      reason: 'gone',
    });
  }

  /** Counted, then emitted: every `disconnect` of this server goes through here. */
  #disconnect(info: ConnectionClose): void {
    this.#counters.closedConnection(info);
    this.emit('disconnect', info);
  }

  /** Counted, then emitted: every `reject` of this server goes through here. */
  #reject(remoteAddress: string, remotePort: number, reason: ConnectionReject['reason']): void {
    this.#rejected++;
    this.#counters.rejectedConnection(reason);
    this.emit('reject', { remoteAddress, remotePort, reason, rejected: this.#rejected });
  }

  /** The client's address; on a Unix socket, which has none, `unix` and port 0. */
  #peer(socket: net.Socket): { remoteAddress: string | undefined; remotePort: number | undefined } {
    if (isUnixTarget(this.#options.listen)) return { remoteAddress: UNIX_PEER_ADDRESS, remotePort: 0 };
    return { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
  }

  #tell(worker: Worker, message: PrimaryMessage, handle?: net.Server): void {
    if (!worker.child.connected) return;
    if (handle) worker.child.send(message, handle, () => {});
    else worker.child.send(message, () => {});
  }
}

function ignoreError(): void {}
