import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { withPeer, type ConnectionClose, type ConnectionHooks, type ConnectionOpen, type Dispatcher } from './connection-events.js';
import { isChildMessage, type SettingsMessage, type SocketMessage, type WarmUpMessage } from './fork-protocol.js';
import type { EchoSettings } from './echo-settings.js';
import { broadcastFaults } from './faults/fault-broadcast.js';
import type { Faults } from './faults/faults.js';
import { IdleWaiters } from './idle-waiters.js';
import { LiveProcesses } from './live-processes.js';
import { RestartBackoff } from './restart-backoff.js';
import type { ServerCounters } from './server-counters.js';
import { WaitingClients } from './waiting-clients.js';

const CHILD_ENTRY = fileURLToPath(new URL('./fork-child.js', import.meta.url));

/**
 * No V8 flags for the children: measured here, none of those that trim memory moved a child's RSS
 * by more than 1.5 MB (most of it is the node binary's pages), and most made the start slower
 * (README, "Performance", fork mode). An empty list also keeps the parent's flags out.
 */
export const CHILD_EXEC_ARGV: string[] = [];

/** How long after a spare takes a client its replacement starts. */
const REPLENISH_DELAY_MS = 50;

/** How long a child may take to exit after SIGTERM before it is SIGKILLed. */
const KILL_GRACE_MS = 2000;

export interface ForkDispatcherOptions {
  /** At most this many children at once, spares included; clients past it wait, unread. */
  maxChildren: number;
  /** Children kept started and ready for the next clients. */
  spare: number;
  /** Sent to each child as its first message. */
  settings: EchoSettings;
  /** The server's counts: child starts and failed starts, hand-off times. */
  counters: ServerCounters;
}

interface Client {
  socket: net.Socket;
  info: ConnectionOpen;
  /** When it was accepted (`performance.now()`). */
  queuedAt: number;
}

/** One child process, and the client it serves once one is assigned. */
interface Slot {
  child: ChildProcess;
  /** The child has said it is listening for its connection. */
  ready: boolean;
  client: Client | undefined;
  assignedAt: number;
  /** The socket has been sent to the child. */
  handedOff: boolean;
  /** The child has reported the connection closed. */
  reported: boolean;
  /** The client's `connection` event has been emitted (with the PROXY protocol, once the child has read the header). */
  opened: boolean;
}

/**
 * `--mode fork`, the classic design: every accepted client gets a new child process of its own,
 * which echoes it and exits; no child ever serves a second client. The parent accepts with
 * `pauseOnConnect`, so it never reads client data (bytes the parent had read would never reach
 * the child), and hands the socket over IPC.
 *
 * A Node child takes ~140 ms to start, so `spare` children are started ahead of need: a client is
 * handed to a ready one at once and a replacement starts in the background. Clients that find no
 * ready child are assigned to one that is starting. Spares count towards `maxChildren`. No child
 * starts before `start()`, which the server calls once it is listening: a server that fails to
 * listen leaves nothing running.
 */
export class ForkDispatcher implements Dispatcher {
  readonly #hooks: ConnectionHooks;
  readonly #maxChildren: number;
  readonly #spare: number;
  readonly #settings: EchoSettings;
  readonly #counters: ServerCounters;
  readonly #slots = new Set<Slot>();
  readonly #waiting = new WaitingClients<Client>((client) => this.#waitingOnGone(client));
  readonly #idle = new IdleWaiters();
  readonly #processes = new LiveProcesses();
  #stopping = false;
  /** Children in a row that died before they were ready: a crash loop backs off. */
  readonly #startFailures = new RestartBackoff();
  #backoff: NodeJS.Timeout | undefined;
  #replenish: NodeJS.Timeout | undefined;

  constructor(hooks: ConnectionHooks, options: ForkDispatcherOptions) {
    this.#hooks = hooks;
    this.#maxChildren = options.maxChildren;
    this.#spare = Math.min(options.spare, options.maxChildren);
    // A copy: setFaults changes what later children start with.
    this.#settings = { ...options.settings };
    this.#counters = options.counters;
  }

  /** Starts the spares. */
  start(): void {
    this.#fill();
  }

  /**
   * Clients accepted and not yet closed: those with a child and those waiting for one. A client
   * whose child has reported it closed no longer counts, though its child may take a moment
   * more to exit: its place in `maxConnections` is free at once.
   */
  get active(): number {
    let assigned = 0;
    for (const slot of this.#slots) if (slot.client !== undefined && !slot.reported) assigned++;
    return assigned + this.#waiting.length;
  }

  /** The pids of every child alive now, spares included. */
  get childPids(): number[] {
    return [...this.#slots].map((slot) => slot.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** The pids of the children started and ready, not yet serving anyone. */
  get sparePids(): number[] {
    return [...this.#slots].filter((s) => s.ready && s.client === undefined).map((s) => s.child.pid as number);
  }

  dispatch(socket: net.Socket, info: ConnectionOpen): void {
    // The socket stays paused and unread while it waits; an error on it must not crash the parent.
    socket.on('error', ignoreError);
    this.#waiting.push({ socket, info, queuedAt: performance.now() });
    this.#assignWaiting();
    if (this.#waiting.length > 0) {
      this.#fill();
    } else {
      // Served by a spare. Its replacement waits a moment: starting a Node process blocks this
      // loop for ~5 ms (fork) and takes a core for ~130 ms, which would land on the very client
      // the spare is answering.
      this.#replenish ??= setTimeout(() => {
        this.#replenish = undefined;
        this.#fill();
      }, REPLENISH_DELAY_MS).unref();
    }
  }

  idle(): Promise<void> {
    return this.#idle.wait(this.active === 0);
  }

  beginDrain(): void {
    this.#stopping = true;
    // No client will come for the spares.
    for (const slot of this.#slots) if (slot.client === undefined) slot.child.kill('SIGTERM');
  }

  destroyAll(): void {
    this.#stopping = true;
    clearTimeout(this.#backoff);
    clearTimeout(this.#replenish);
    for (const { socket } of this.#waiting.clear()) socket.destroy();
    for (const child of this.#processes) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
      child.once('exit', () => clearTimeout(kill));
    }
    if (this.active === 0) this.#idle.wake();
  }

  exited(): Promise<void> {
    return this.#processes.allGone();
  }

  /** New children start with these faults; every child alive now (spares too) gets them before this resolves. */
  setFaults(faults: Faults | undefined): Promise<void> {
    this.#settings.faults = faults;
    return broadcastFaults([...this.#slots].map((slot) => slot.child), faults);
  }

  /** A client that left while it waited: it never had a child, and has nothing to echo. */
  #waitingOnGone(client: Client): void {
    this.#hooks.close({
      ...client.info,
      bytesRead: 0,
      bytesWritten: 0,
      durationMs: performance.now() - client.queuedAt,
      reason: 'gone',
    });
    if (this.active === 0) this.#idle.wake();
  }

  /** Gives waiting clients a child (ready ones first), and keeps `spare` unassigned children. */
  #fill(): void {
    this.#assignWaiting();
    if (this.#stopping || this.#backoff !== undefined) return;
    let unassigned = 0;
    for (const slot of this.#slots) if (slot.client === undefined) unassigned++;
    while (this.#slots.size < this.#maxChildren && unassigned < this.#spare + this.#waiting.length) {
      this.#startChild();
      unassigned++;
    }
    this.#assignWaiting();
  }

  #assignWaiting(): void {
    while (this.#waiting.length > 0) {
      let free: Slot | undefined;
      for (const slot of this.#slots) {
        if (slot.client !== undefined || slot.child.exitCode !== null) continue;
        if (slot.ready) {
          free = slot;
          break;
        }
        free ??= slot;
      }
      if (free === undefined) return;
      const client = this.#waiting.shift() as Client;
      free.client = { socket: client.socket, info: { ...client.info }, queuedAt: client.queuedAt };
      free.assignedAt = performance.now();
      if (free.child.pid !== undefined) free.client.info.pid = free.child.pid;
      // With the PROXY protocol the event waits for the child to have read the header.
      if (this.#settings.proxyProtocol !== true) this.#open(free);
      if (free.ready) this.#handOff(free);
    }
  }

  #startChild(): void {
    const child = fork(CHILD_ENTRY, [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: CHILD_EXEC_ARGV,
      serialization: 'json',
    });
    // Its first message; it warms up and says it is ready only once it has it.
    // (No channel when the child could not be started at all, out of descriptors: its 'error' says so.)
    if (child.connected) child.send({ type: 'settings', settings: this.#settings } satisfies SettingsMessage, ignoreError);
    const slot: Slot = { child, ready: false, client: undefined, assignedAt: 0, handedOff: false, reported: false, opened: false };
    this.#counters.childStarts++;
    this.#slots.add(slot);
    this.#processes.add(child);
    child.on('error', (err) => {
      // A child that could not be started at all (EMFILE, EAGAIN, ENOMEM) never emits 'exit'.
      if (child.pid === undefined && this.#slots.has(slot)) {
        this.#hooks.warning(new Error(`cannot start a child process: ${err.message}`, { cause: err }));
        this.#processes.gone(child);
        this.#childOnExit(slot, null, null);
      }
    });
    child.on('message', (message) => this.#childOnMessage(slot, message));
    child.once('exit', (code, signal) => this.#childOnExit(slot, code, signal));
  }

  #childOnMessage(slot: Slot, message: unknown): void {
    if (!isChildMessage(message)) return;
    if (message.type === 'warm-up') {
      if (Number.isInteger(message.port) && message.port > 0 && message.port < 65_536) this.#warmUp(slot.child, message.port);
    } else if (message.type === 'ready') {
      slot.ready = true;
      this.#startFailures.reset();
      if (slot.client !== undefined) this.#handOff(slot);
      else this.#fill();
    } else if (message.type === 'taken' && slot.client !== undefined) {
      this.#counters.handOff.observe((performance.now() - slot.client.queuedAt) / 1000);
    } else if (message.type === 'proxied') {
      this.#open(slot, message.peer);
    } else if (message.type === 'closed' && slot.client !== undefined) {
      slot.reported = true;
      this.#close(slot, { ...slot.client.info, ...message.result });
      if (this.active === 0) this.#idle.wake();
    }
  }

  /** The client's `connection` event, once; `peer`: the addresses of its PROXY header. */
  #open(slot: Slot, peer: Partial<ConnectionOpen> = {}): void {
    if (slot.client === undefined || slot.opened) return;
    slot.opened = true;
    this.#hooks.open(withPeer(slot.client.info, peer));
  }

  /** Its `disconnect`, after its `connection` if it had none yet (a bad PROXY header, a child that died first). */
  #close(slot: Slot, info: ConnectionClose): void {
    this.#open(slot, info);
    this.#hooks.close(info);
  }

  /**
   * The child's warm-up: connect to the loopback port it listens on and send it that socket, the
   * way a client's socket will go. The parent never reads it (the child's side writes only once it
   * has the socket), and only ever sends sockets, never receives one: out of descriptors, a Node
   * process that receives one answers NACK, and repeated NACKs trip an assertion inside Node's
   * child_process in the sender (seen under `ulimit -n 64`).
   */
  #warmUp(child: ChildProcess, port: number): void {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const skip = (): void => {
      socket.destroy();
      // Without a socket the child stops warming up and says it is ready.
      if (child.connected) child.send({ type: 'warm-up', port } satisfies WarmUpMessage, ignoreError);
    };
    socket.once('error', skip);
    socket.once('connect', () => {
      socket.off('error', skip);
      socket.on('error', ignoreError);
      if (!child.connected) return void socket.destroy();
      child.send({ type: 'warm-up', port } satisfies WarmUpMessage, socket, { keepOpen: false }, (err) => err && socket.destroy());
    });
  }

  #handOff(slot: Slot): void {
    const { child, client } = slot;
    if (client === undefined || slot.handedOff) return;
    const message: SocketMessage = { type: 'socket', id: client.info.id };
    slot.handedOff = true;
    // keepOpen false: once the child has the socket, the parent's copy is closed.
    child.send(message, client.socket, { keepOpen: false }, (err) => {
      if (err) {
        // The child died before taking the socket: the parent still holds it, and the client would
        // hang on it forever. Close it, and make sure the child is gone.
        client.socket.destroy();
        child.kill('SIGKILL');
      }
    });
  }

  #childOnExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.#slots.delete(slot)) return;
    const { client } = slot;
    if (client !== undefined) {
      // Harmless when the child took the socket (the parent's handle is already gone); when it did
      // not, this is what keeps the client from hanging.
      client.socket.destroy();
      if (!slot.reported) {
        this.#close(slot, {
          ...client.info,
          bytesRead: 0,
          bytesWritten: 0,
          durationMs: performance.now() - slot.assignedAt,
          reason: slot.handedOff ? 'child-exit' : 'handoff-failed',
          childExit: signal ?? `code ${String(code)}`,
        });
      }
    }
    // A spare that died, or a slot freed by a finished client: start what is now needed. Children
    // that die before they are even ready (a broken install, no memory) are restarted with a
    // growing delay, so that a crash loop does not spin.
    if (!slot.ready && !this.#stopping) {
      this.#counters.childStartFailures++;
      const delayMs = this.#startFailures.failure();
      if (delayMs > 0 && this.#backoff === undefined) {
        this.#backoff = setTimeout(() => {
          this.#backoff = undefined;
          this.#fill();
        }, delayMs).unref();
      }
    }
    this.#fill();
    if (this.active === 0) this.#idle.wake();
  }

}

function ignoreError(): void {}
