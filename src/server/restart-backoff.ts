/** Failures remembered at most: past a handful the delay is at its cap anyway. */
const MAX_REMEMBERED = 32;

export interface RestartBackoffOptions {
  /** The delay after the second failure; each further one doubles it. @default 100 */
  baseMs?: number;
  /** The longest delay. @default 5000 */
  maxMs?: number;
  /** Failures older than this are forgotten. @default Infinity */
  windowMs?: number;
}

/**
 * How long to wait before restarting a process that died, so that a crash loop does not spin:
 * the first failure restarts at once, the next ones wait `baseMs`, twice that, ... up to `maxMs`.
 * Shared by fork mode (children that die before they are ready) and cluster mode (workers that
 * crash). Times are `performance.now()` milliseconds unless the caller passes its own.
 */
export class RestartBackoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #windowMs: number;
  /** When each remembered failure happened, oldest first. */
  readonly #failures: number[] = [];

  constructor(options: RestartBackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 100;
    this.#maxMs = options.maxMs ?? 5000;
    this.#windowMs = options.windowMs ?? Infinity;
  }

  /** Failures within the window as of the last `failure()` (at most a few dozen are kept). */
  get failures(): number {
    return this.#failures.length;
  }

  /** Records a failure at `now`; returns how long to wait before the restart (0: at once). */
  failure(now: number = performance.now()): number {
    this.#failures.push(now);
    while (this.#failures.length > MAX_REMEMBERED) this.#failures.shift();
    while ((this.#failures[0] as number) < now - this.#windowMs) this.#failures.shift();
    const n = this.#failures.length;
    return n <= 1 ? 0 : Math.min(this.#baseMs * 2 ** (n - 2), this.#maxMs);
  }

  /** Forgets every failure: what was failing has worked. */
  reset(): void {
    this.#failures.length = 0;
  }
}
