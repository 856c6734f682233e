import { fork, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ConnectionHooks, ConnectionOpen, Dispatcher } from './connection-events.js';
import { isChildMessage, type SocketMessage } from './fork-protocol.js';
import { IdleWaiters } from './idle-waiters.js';

const CHILD_ENTRY = fileURLToPath(new URL('./fork-child.js', import.meta.url));

/** How long a child may take to exit after SIGTERM before it is SIGKILLed. */
const KILL_GRACE_MS = 2000;

export interface ForkDispatcherOptions {
  /** At most this many children at once; clients past it wait, unread, for a free child. */
  maxChildren: number;
}

interface Waiting {
  socket: net.Socket;
  info: ConnectionOpen;
}

/** One child process and the connection it serves. */
interface Slot {
  child: ChildProcess;
  socket: net.Socket;
  info: ConnectionOpen;
  startedAt: number;
  /** The socket has been sent to the child. */
  handedOff: boolean;
  /** The child has reported the connection closed. */
  reported: boolean;
}

/**
 * `--mode fork`, the classic design: every accepted client gets a new child process of its own,
 * which echoes it and exits. The parent accepts with `pauseOnConnect`, so it never reads client
 * data (bytes the parent had read would never reach the child), and hands the socket over IPC.
 */
export class ForkDispatcher implements Dispatcher {
  readonly #hooks: ConnectionHooks;
  readonly #maxChildren: number;
  readonly #slots = new Set<Slot>();
  readonly #waiting: Waiting[] = [];
  readonly #idle = new IdleWaiters();
  #stopping = false;

  constructor(hooks: ConnectionHooks, options: ForkDispatcherOptions) {
    this.#hooks = hooks;
    this.#maxChildren = options.maxChildren;
  }

  get active(): number {
    return this.#slots.size + this.#waiting.length;
  }

  /** Child processes alive now. */
  get children(): number {
    return this.#slots.size;
  }

  /** Their pids. */
  get childPids(): number[] {
    return [...this.#slots].map((slot) => slot.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  dispatch(socket: net.Socket, info: ConnectionOpen): void {
    // The socket stays paused and unread while it waits; an error on it must not crash the parent.
    socket.on('error', ignoreError);
    this.#waiting.push({ socket, info });
    this.#startChildren();
  }

  idle(): Promise<void> {
    return this.#idle.wait(this.active === 0);
  }

  destroyAll(): void {
    this.#stopping = true;
    for (const { socket } of this.#waiting.splice(0)) socket.destroy();
    for (const slot of this.#slots) {
      slot.child.kill('SIGTERM');
      setTimeout(() => slot.child.kill('SIGKILL'), KILL_GRACE_MS).unref();
    }
    if (this.active === 0) this.#idle.wake();
  }

  #startChildren(): void {
    while (!this.#stopping && this.#waiting.length > 0 && this.#slots.size < this.#maxChildren) {
      const next = this.#waiting.shift() as Waiting;
      this.#startChild(next);
    }
  }

  #startChild({ socket, info }: Waiting): void {
    const child = fork(CHILD_ENTRY, [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
      serialization: 'json',
    });
    const slot: Slot = { child, socket, info: { ...info }, startedAt: performance.now(), handedOff: false, reported: false };
    if (child.pid !== undefined) slot.info.pid = child.pid;
    this.#slots.add(slot);
    this.#hooks.open(slot.info);
    child.on('error', ignoreError);
    child.on('message', (message) => this.#childOnMessage(slot, message));
    child.once('exit', (code, signal) => this.#childOnExit(slot, code, signal));
  }

  #childOnMessage(slot: Slot, message: unknown): void {
    if (!isChildMessage(message)) return;
    if (message.type === 'ready') {
      this.#handOff(slot);
    } else {
      slot.reported = true;
      this.#hooks.close({ ...slot.info, ...message.result });
    }
  }

  #handOff(slot: Slot): void {
    const { child, socket } = slot;
    const message: SocketMessage = { type: 'socket' };
    slot.handedOff = true;
    // keepOpen false: once the child has the socket, the parent's copy is closed.
    child.send(message, socket, { keepOpen: false }, (err) => {
      if (err) {
        // The child died before taking the socket: the parent still holds it, and the client would
        // hang on it forever. Close it, and make sure the child is gone.
        socket.destroy();
        child.kill('SIGKILL');
      }
    });
  }

  #childOnExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    this.#slots.delete(slot);
    // Harmless when the child took the socket (the parent's handle is already gone); when it did
    // not, this is what keeps the client from hanging.
    slot.socket.destroy();
    if (!slot.reported) {
      this.#hooks.close({
        ...slot.info,
        bytesRead: 0,
        bytesWritten: 0,
        durationMs: performance.now() - slot.startedAt,
        reason: slot.handedOff ? 'child-exit' : 'handoff-failed',
        childExit: signal ?? `code ${String(code)}`,
      });
    }
    this.#startChildren();
    if (this.active === 0) this.#idle.wake();
  }
}

function ignoreError(): void {}
