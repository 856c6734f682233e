import type { ChildProcess } from 'node:child_process';
import { IdleWaiters } from './idle-waiters.js';
import { holdingLoop } from './shutdown.js';

/**
 * The child processes of one server (fork children, cluster workers) that are not yet fully gone:
 * a process counts until its 'close' (exited and its IPC channel closed, so nothing of it keeps
 * this process's loop alive), or until `gone()` for one that could not be started at all.
 */
export class LiveProcesses {
  readonly #processes = new Set<ChildProcess>();
  readonly #empty = new IdleWaiters();

  add(child: ChildProcess): void {
    this.#processes.add(child);
    child.once('close', () => this.gone(child));
  }

  /** For a process that never started ('error' without a pid): it will have no 'close'. */
  gone(child: ChildProcess): void {
    if (this.#processes.delete(child) && this.#processes.size === 0) this.#empty.wake();
  }

  [Symbol.iterator](): IterableIterator<ChildProcess> {
    return this.#processes.values();
  }

  /** Resolves once every process is gone, holding the event loop meanwhile (see holdingLoop). */
  allGone(): Promise<void> {
    return holdingLoop(this.#empty.wait(this.#processes.size === 0));
  }
}
