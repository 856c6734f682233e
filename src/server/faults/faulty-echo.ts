import type net from 'node:net';
import type { Faults } from './faults.js';

/**
 * Bytes a faulty echo may hold (delayed, paced, waiting for its piece) before reading from that
 * connection pauses: memory stays bounded whatever the faults, and the client's own sending
 * blocks as on a slow link.
 */
const HOLD_LIMIT = 1024 * 1024;
/** The bandwidth bucket holds this much time's worth of bytes: bursts are paced too. */
const BUCKET_MS = 50;
/** How long after the last echoed byte a `resetAfter` reset follows it (see #limitReached). */
const RESET_GAP_MS = 25;

interface Held {
  data: Buffer;
  /** `performance.now()` before which it may not leave. */
  releaseAt: number;
}

/**
 * The echo of one connection while faults apply to it, as a tap on the echo core: the core still
 * reads and owns half-close, this decides when and how the bytes go back. The faults combine in
 * one order: delay (and jitter) decides when a chunk may leave, bandwidth how fast, chunk in
 * what pieces; close, reset and stall count bytes echoed. The faults are read when they act, so
 * `setFaults` reaches an open connection from its next read (delay) or its next write (the rest).
 */
export class FaultyEcho {
  readonly #socket: net.Socket;
  readonly #faults: () => Faults;
  readonly #pause: () => void;
  readonly #resume: () => void;
  readonly #onWrite: ((piece: Buffer) => void) | undefined;
  readonly #queue: Held[] = [];
  #held = 0;
  #echoed = 0;
  #lastRelease = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #waitingForDrain = false;
  #paused = false;
  #clientEnded = false;
  /** Closed, reset or stalled by a fault: nothing more is echoed. */
  #stopped = false;
  #stalled = false;
  #writesInFlight = 0;
  #resetWhenWritten = false;
  #tokens = 0;
  #refilledAt = performance.now();

  /** `onWrite` sees every piece as it is written (the hex dump's sent side). */
  constructor(socket: net.Socket, faults: () => Faults, reading: { pause(): void; resume(): void }, onWrite?: (piece: Buffer) => void) {
    this.#socket = socket;
    this.#faults = faults;
    this.#pause = reading.pause;
    this.#resume = reading.resume;
    this.#onWrite = onWrite;
  }

  /** Bytes held, not yet echoed. */
  get held(): number {
    return this.#held;
  }

  /** Whether the connection may be read now: not while too much is held, never once stalled. */
  get wantsReading(): boolean {
    return !this.#paused && !this.#stalled;
  }

  /** Once a fault has closed, reset or stalled the connection, every later byte goes this way (and is dropped). */
  get engaged(): boolean {
    return this.#held > 0 || this.#stopped;
  }

  /** Takes a received chunk (it must stay unchanged until echoed); false when reading should pause. */
  push(chunk: Buffer): boolean {
    if (this.#stopped) return true;
    const faults = this.#faults();
    const now = performance.now();
    let delay = faults.delayMs ?? 0;
    if (faults.jitterMs !== undefined && faults.jitterMs > 0) delay = Math.max(0, delay + (Math.random() * 2 - 1) * faults.jitterMs);
    // Never before an earlier chunk: byte order is kept whatever the jitter.
    this.#lastRelease = Math.max(now + delay, this.#lastRelease);
    this.#queue.push({ data: chunk, releaseAt: this.#lastRelease });
    this.#held += chunk.length;
    this.#pump();
    if (this.#held > HOLD_LIMIT) {
      this.#paused = true;
      return false;
    }
    return true;
  }

  /** The client has half-closed: our FIN follows the last held byte. */
  end(): void {
    this.#clientEnded = true;
    this.#pump();
  }

  /** The connection has closed: no timer may outlive it. */
  dispose(): void {
    this.#clearTimer();
    this.#queue.length = 0;
    this.#held = 0;
  }

  #pump(): void {
    if (this.#timer !== undefined || this.#waitingForDrain || this.#socket.destroyed) return;
    while (!this.#stopped) {
      const head = this.#queue[0];
      if (head === undefined) break;
      const faults = this.#faults();
      const now = performance.now();
      if (head.releaseAt > now) return this.#wake(head.releaseAt - now);
      let size = head.data.length;
      const left = this.#bytesBeforeLimit(faults);
      if (left !== undefined) {
        if (left <= 0) return this.#limitReached(faults);
        size = Math.min(size, left);
      }
      if (faults.bandwidthKbps !== undefined) {
        // Kilobytes (1000 bytes) a second are bytes a millisecond.
        const perMs = faults.bandwidthKbps;
        this.#tokens = Math.min(this.#tokens + (now - this.#refilledAt) * perMs, Math.max(perMs * BUCKET_MS, 1));
        this.#refilledAt = now;
        if (this.#tokens < 1) return this.#wake((1 - this.#tokens) / perMs);
        size = Math.min(size, Math.floor(this.#tokens));
        this.#tokens -= size;
      }
      if (faults.chunk !== undefined) size = Math.min(size, faults.chunk.bytes);
      const piece = size === head.data.length ? head.data : head.data.subarray(0, size);
      if (size === head.data.length) this.#queue.shift();
      else head.data = head.data.subarray(size);
      this.#held -= size;
      this.#echoed += size;
      // Each piece its own segment: no Nagle to merge pieces.
      if (faults.chunk !== undefined) this.#socket.setNoDelay(true);
      this.#writesInFlight++;
      this.#onWrite?.(piece);
      const more = this.#socket.write(piece, this.#written);
      if (this.#paused && this.#held <= HOLD_LIMIT / 2) {
        this.#paused = false;
        this.#resume();
      }
      if (this.#bytesBeforeLimit(faults) === 0) return this.#limitReached(faults);
      if (!more) {
        this.#waitingForDrain = true;
        this.#socket.once('drain', () => {
          this.#waitingForDrain = false;
          this.#pump();
        });
        return;
      }
      if (faults.chunk !== undefined) {
        // One piece per wake-up, so that each leaves on its own.
        const interval = faults.chunk.intervalMs ?? 0;
        if (this.#queue.length > 0) return this.#wake(interval);
      }
    }
    if (this.#queue.length === 0 && this.#clientEnded && !this.#stopped) this.#socket.end();
  }

  /** Bytes that may still be echoed before close, reset or stall: undefined when none is set. */
  #bytesBeforeLimit(faults: Faults): number | undefined {
    let limit: number | undefined;
    for (const n of [faults.closeAfter, faults.resetAfter, faults.stallAfter]) {
      if (n !== undefined) limit = Math.min(limit ?? n, n);
    }
    return limit === undefined ? undefined : limit - this.#echoed;
  }

  /** Whichever limit comes first acts; close before reset before stall when they are equal. */
  #limitReached(faults: Faults): void {
    this.#stopped = true;
    this.#clearTimer();
    this.#queue.length = 0;
    this.#held = 0;
    const at = (n: number | undefined): boolean => n !== undefined && this.#echoed >= n;
    if (at(faults.closeAfter)) {
      // Our FIN after what was echoed; the client's bytes from now on are read and dropped, so
      // that its own FIN is seen and the connection can close.
      this.#resume();
      this.#socket.end();
    } else if (at(faults.resetAfter)) {
      // Only once the last echo has been written, and a moment later: on Node 20 over loopback, a
      // reset right after a write (in the same turn, or the next) reached the client as a FIN.
      this.#resetWhenWritten = true;
      if (this.#writesInFlight === 0) this.#resetSoon();
    } else {
      // A black hole: nothing read, nothing echoed, open until the idle timeout, the server's
      // shutdown, or a write of ours that finds the client gone.
      this.#stalled = true;
      this.#pause();
    }
  }

  readonly #written = (): void => {
    if (--this.#writesInFlight === 0 && this.#resetWhenWritten) this.#resetSoon();
  };

  #resetSoon(): void {
    const socket = this.#socket;
    setTimeout(() => {
      if (!socket.destroyed) socket.resetAndDestroy();
    }, RESET_GAP_MS).unref();
  }

  #wake(ms: number): void {
    this.#timer = ms <= 0
      ? setImmediate(() => this.#onWake())
      : setTimeout(() => this.#onWake(), Math.ceil(ms)).unref();
  }

  #onWake(): void {
    this.#timer = undefined;
    this.#pump();
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }
}
