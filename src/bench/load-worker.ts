import type { ErrorKind } from './types.js';

/** What the run drives: a long-lived load connection, or a connect-mode loop or arrival. */
export interface LoadWorker {
  /** Bytes (or, in connect mode, cycles) sent and not yet echoed: the watchdog's concern. */
  readonly outstanding: number;
  /** Work under way that the drain waits for: an echo outstanding, or a connect-mode cycle. */
  readonly busy: boolean;
  /** Done for good: nothing more will happen on it. */
  readonly finished: boolean;
  /** performance.now() of the last progress. */
  readonly lastProgress: number;
  begin(): void;
  /** Resolves once the first echo is back (or the worker is gone): the warm-up starts after. */
  firstEcho(): Promise<void>;
  /** Starts no new work; resolves once nothing is outstanding. */
  stopIssuing(): Promise<void>;
  /** Half-closes and waits for the server's FIN, at most `ms`. */
  finish(ms: number): Promise<void>;
  /** Counts an error of `kind` and ends the worker's connection. */
  fail(kind: ErrorKind, detail: string): void;
}
