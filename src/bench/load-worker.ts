import type { ErrorKind } from './stats.js';

/** What the run drives: a long-lived load connection, or a connect-mode loop or arrival. */
export interface LoadWorker {
  /** Bytes (or, in connect mode, cycles) sent and not yet echoed: the watchdog's concern. */
  readonly outstanding: number;
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
