import { VerifiedConnection } from './verified-connection.js';

/**
 * `--mode stream`: write continuously, as fast as the socket takes it, and read the echo back at
 * the same time, checking every byte. Each write's round trip is recorded as a message latency.
 */
export class StreamConnection extends VerifiedConnection {
  /** Send times of writes not yet fully echoed, oldest first from `#head`. */
  #sentAt: number[] = [];
  #head = 0;
  #completed = 0;

  begin(): void {
    this.socket.on('drain', () => this.#pump());
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
  }

  #pump(): void {
    while (this.issuing && this.active) {
      const now = performance.now();
      this.#sentAt.push(now);
      if (!this.send(this.ctx.size, now)) return;
    }
  }
}
