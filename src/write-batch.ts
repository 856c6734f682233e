import type net from 'node:net';

/**
 * Writes held back until every read that was ready in this turn of the event loop has been
 * handled, then made one after another (setImmediate runs after the poll phase's callbacks). The
 * syscalls are the same, one write per chunk, but they reach the peer as a burst: it finds several
 * sockets ready each time it wakes instead of being woken for each one, and the writes' own
 * bookkeeping (Node's after-write ticks) runs once per turn instead of once per read.
 *
 * Used on both ends of ping-pong traffic: by `tcpecho bench` for its messages and by the echo for
 * the echoes of short reads. Measured figures: the README's Performance section.
 */
export class WriteBatch {
  readonly #sockets: net.Socket[] = [];
  readonly #data: Buffer[] = [];
  readonly #written: ((() => void) | undefined)[] = [];
  readonly #onFull: ((socket: net.Socket) => void) | undefined;
  #scheduled = false;

  /** `onFull` is called for a socket whose write was queued in memory (write() returned false). */
  constructor(onFull?: (socket: net.Socket) => void) {
    this.#onFull = onFull;
  }

  /** Writes held now. */
  get size(): number {
    return this.#sockets.length;
  }

  /**
   * Holds `data` for `socket` until the end of the turn. `written` is called once the write is
   * done with `data`: as `socket.write`'s callback, or at the flush if the socket can no longer be
   * written to.
   */
  add(socket: net.Socket, data: Buffer, written?: () => void): void {
    this.#sockets.push(socket);
    this.#data.push(data);
    this.#written.push(written);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushScheduled);
    }
  }

  readonly #flushScheduled = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /**
   * Makes every held write now, in the order they were added. Call it before anything that must
   * come after them on a socket: a write of its own, or end().
   */
  readonly flush = (): void => {
    const sockets = this.#sockets;
    const data = this.#data;
    const written = this.#written;
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i] as net.Socket;
      const callback = written[i];
      // A socket ended or destroyed since its write was added has been dealt with already (the
      // echo flushes before it ends a socket): writing after end() would raise a second,
      // misleading error.
      if (!socket.writable) callback?.();
      else if (!socket.write(data[i] as Buffer, callback)) this.#onFull?.(socket);
    }
    sockets.length = 0;
    data.length = 0;
    written.length = 0;
  };
}
