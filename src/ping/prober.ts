import { formatAddress } from '../options/values.js';
import type { ProbeResult } from './types.js';

/**
 * One transport's way of running a probe: TCP here; TLS and UDP plug in beside it by implementing
 * the same two methods. `ping` owns the schedule, the count, the signal and the tally; a prober
 * owns its connection (if it has one) and turns what its socket does into one `ProbeResult`.
 */
export interface Prober {
  /**
   * Sends `payload` as probe `seq` and resolves with its result within `timeoutMs` (connect
   * included), or with `undefined` when `signal` aborts first. Never rejects: every failure is an
   * outcome. Probes never overlap: the next call comes after this one has resolved.
   */
  probe(seq: number, payload: Buffer, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult | undefined>;
  /** Closes what is still open (a kept connection). Safe to call twice. */
  close(): void;
}

/** Where a prober sends its probes: an address already resolved, so every probe reaches the same one. */
export interface ProbeTarget {
  /** An IP address; `unix:PATH` for a Unix socket. */
  address: string;
  /** 0 for a Unix socket. */
  port: number;
  family: 4 | 6;
  /** A Unix socket, in Node's form (`\0name` for an abstract one): connect there instead. */
  path?: string;
}

/** How lines and messages name the target: `ADDRESS:PORT`, or `unix:PATH`. */
export function targetName(target: ProbeTarget): string {
  return target.path !== undefined ? target.address : formatAddress(target.address, target.port);
}

/** A socket error's code as a probe outcome. */
export function outcomeOfError(code: string | undefined): { outcome: 'refused' | 'reset' | 'error'; errorCode?: string } {
  switch (code) {
    case 'ECONNREFUSED':
      return { outcome: 'refused' };
    // EPIPE: the write met a connection the peer had already reset.
    case 'ECONNRESET':
    case 'EPIPE':
      return { outcome: 'reset' };
    default:
      return { outcome: 'error', errorCode: code ?? 'unknown' };
  }
}

/**
 * A probe's deadline and its abort, settled once: `onTimeout` after `timeoutMs`, `onAbort` when
 * `signal` aborts, whichever comes first; `settle()` is true the first time only (the probe's
 * outcome is decided then) and clears both.
 */
export function probeDeadline(timeoutMs: number, signal: AbortSignal, onTimeout: () => void, onAbort: () => void): { settle(): boolean } {
  let settled = false;
  const timer = setTimeout(onTimeout, timeoutMs).unref();
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    settle() {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      return true;
    },
  };
}
