import { VerifiedConnection } from './verified-connection.js';

/**
 * Bytes a stream connection may have sent and not yet had back. Without a bound, the kernel's
 * buffer autotuning let ~30 MB pile up in the server's receive queue; the receiving sockets then
 * dropped segments on loopback (`nstat` TCPRcvQDrop) and a dropped one was resent with exponential
 * backoff: a connection stood still for 10 s or more in 4 of 61 two-thread runs against the C
 * echo server (`ss`: `backoff:4`, `lost:65`). 4 MiB is many times what loopback needs in flight.
 */
export const STREAM_WINDOW = 4 * 1024 * 1024;

/**
 * `--mode stream`: write continuously, as fast as the socket takes it and at most STREAM_WINDOW
 * ahead of the echo, and read the echo back at the same time, checking every byte. Each write's
 * round trip is recorded as a message latency.
 */
export class StreamConnection extends VerifiedConnection {
  /** Send times of writes not yet fully echoed, oldest first from `#head`. */
  #sentAt: number[] = [];
  #head = 0;
  #completed = 0;
  /** A write returned false: wait for 'drain' before writing more. */
  #waitingDrain = false;

  begin(): void {
    this.socket.on('drain', () => {
      this.#waitingDrain = false;
      this.#pump();
    });
    this.#pump();
  }

  protected onVerified(now: number): void {
    const { size, stats } = this.ctx;
    while (this.#head < this.#sentAt.length && this.received >= (this.#completed + 1) * size) {
      stats.recordMessage(now - (this.#sentAt[this.#head] as number));
      this.#head++;
      this.#completed++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#sentAt.length) {
      this.#sentAt = this.#sentAt.slice(this.#head);
      this.#head = 0;
    }
    // The echo has made room in the window.
    if (!this.#waitingDrain) this.#pump();
  }

  #pump(): void {
    while (this.issuing && this.active && this.outstanding + this.ctx.size <= Math.max(STREAM_WINDOW, this.ctx.size)) {
      const now = performance.now();
      this.#sentAt.push(now);
      if (!this.send(this.ctx.size, now)) {
        this.#waitingDrain = true;
        return;
      }
    }
  }
}
