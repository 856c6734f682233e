import type { TcpechoError } from '../errors.js';

/**
 * Whether the run's opening connections could be made at all. The opening is every connection in
 * pingpong and stream modes, each loop's first in connect mode, the first arrival with a `rate`.
 * When all of them fail to connect before any connection succeeds, there is no server to measure:
 * the run ends at once and rejects with the first failure, in the client's words, instead of
 * counting connect errors for its whole duration (or, with a message count, forever).
 */
export class Opening {
  #left: number;
  #settled = false;
  #first: TcpechoError | undefined;
  readonly #onNoServer: (error: TcpechoError) => void;

  constructor(attempts: number, onNoServer: (error: TcpechoError) => void) {
    this.#left = attempts;
    this.#onNoServer = onNoServer;
  }

  /** A connection was made: there is a server, whatever fails next. */
  connected(): void {
    this.#settled = true;
  }

  /** A connect attempt failed with `error`. */
  failed(error: TcpechoError): void {
    if (this.#settled) return;
    this.#first ??= error;
    if (--this.#left > 0) return;
    this.#settled = true;
    this.#onNoServer(this.#first);
  }
}
