import { VerifiedConnection, type LoadContext } from './verified-connection.js';

/**
 * `--mode pingpong`: send a message, wait for all of its echo (checked), record the round trip,
 * send the next; `pipeline` messages in flight at once. Echoes may arrive split or merged in any
 * way: a message is complete when the stream position passes its last byte.
 */
export class PingPongConnection extends VerifiedConnection {
  /** performance.now() at each in-flight message's send, a ring of `pipeline` slots. */
  readonly #sentAt: Float64Array;
  #issued = 0;
  #completed = 0;

  constructor(ctx: LoadContext) {
    super(ctx);
    this.#sentAt = new Float64Array(ctx.pipeline);
  }

  begin(): void {
    for (let i = 0; i < this.ctx.pipeline; i++) this.#issue(performance.now());
  }

  protected onVerified(now: number): void {
    const { size, pipeline, stats } = this.ctx;
    while (this.#completed < this.#issued && this.received >= (this.#completed + 1) * size) {
      stats.recordMessage(now - (this.#sentAt[this.#completed % pipeline] as number));
      this.#completed++;
      if (this.issuing) this.#issue(now);
    }
  }

  #issue(now: number): void {
    this.#sentAt[this.#issued % this.ctx.pipeline] = now;
    this.#issued++;
    this.sendBatched(this.ctx.size, now);
  }
}
