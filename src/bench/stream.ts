import { VerifiedConnection } from './verified-connection.js';

/**
 * Bytes a stream connection may have sent and not yet had back: 256 KiB, or four writes when they
 * are larger (streamWindow).
 *
 * Without a bound, the kernel's buffer autotuning let ~30 MB pile up in the server's receive
 * queue. The receiving sockets then dropped segments on loopback (`nstat` TCPRcvQDrop), and a
 * dropped one was resent with exponential backoff: a connection stood still for 10 s or more in
 * 4 of 61 two-thread runs against the C echo server (`ss`: `backoff:4`, `lost:65`).
 *
 * Less in flight is also faster. Against the C echo server, c=4 64 KiB, four rounds:
 * - a 4 MiB window gave 2,558-2,658 MiB/s at 311-393 µs of generator CPU per MiB;
 * - 1 MiB gave 2,248-2,721;
 * - 256 KiB gave 4,153-4,359 at 227-238 µs.
 * The bytes in flight stay in the caches. On loopback, 256 KiB per connection still keeps the
 * server busy at all times.
 */
export const STREAM_WINDOW = 256 * 1024;

/** The window for writes of `size` bytes: STREAM_WINDOW, or four writes if that is more. */
export function streamWindow(size: number): number {
  return Math.max(STREAM_WINDOW, 4 * size);
}

/**
 * `--mode stream`: write continuously, as fast as the socket takes it and at most streamWindow()
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
    while (this.issuing && this.active && this.outstanding + this.ctx.size <= streamWindow(this.ctx.size)) {
      const now = performance.now();
      this.#sentAt.push(now);
      if (!this.send(this.ctx.size, now)) {
        this.#waitingDrain = true;
        return;
      }
    }
  }
}
