// The load generator's public types (exported by `tcpecho/bench`), apart from the code that
// uses them, so that every bench module can import them without importing each other.

/** The kinds of error a run can count; any one makes the run fail. */
export const ERROR_KINDS = ['connect', 'mismatch', 'short', 'reset', 'timeout', 'no-fin', 'error'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

import { BENCH_MODES } from '../options/table.js';
import type { TlsClientOptions } from '../client/tls.js';

// Declared in the option table with every other option's values.
export { BENCH_MODES };
export type BenchMode = (typeof BENCH_MODES)[number];

export interface BenchOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 7007 */
  port?: number;
  /** Look `host` up as an IPv4 (4) or IPv6 (6) address only, as `-4`/`-6` do. @default either */
  family?: 4 | 6;
  /**
   * Connect to this Unix domain socket instead of TCP (`host`, `port` and `family` are then
   * unused); `@NAME` is a Linux abstract name. @default none (TCP)
   */
  unix?: string;
  /** @default 'pingpong' */
  mode?: BenchMode;
  /** Concurrent connections (connect mode: concurrent connect loops). @default 50 */
  connections?: number;
  /** Bytes per message. @default 1024 */
  size?: number;
  /**
   * Length of the measured window, when `messages` is not given. Either window ends early once
   * every connection has failed or closed (connect mode without `rate`). @default 10000
   */
  durationMs?: number;
  /** Stop after this many messages (counted after the warm-up) instead of after `durationMs`. */
  messages?: number;
  /** Run this long before counting. @default 1000 */
  warmupMs?: number;
  /** Messages in flight per connection (ping-pong). @default 1 */
  pipeline?: number;
  /**
   * Connect mode: new connections arrive at this many per second, whatever the server's pace
   * (open loop), at most `connections` under way at once. Without it, each of the `connections`
   * loops starts its next connection as soon as the last one is done.
   */
  rate?: number;
  /**
   * A connect that does not complete within this time is a `connect` error, and an echo that
   * makes no progress for this long a `timeout` error. @default 10000
   */
  timeoutMs?: number;
  /**
   * Threads the connections are spread over, each with its own event loop (worker_threads), for
   * when one core cannot drive the server hard enough. @default 1
   */
  threads?: number;
  /**
   * TLS over every connection, as `connectEcho`'s `tls`: `true` verifies against the system's CAs;
   * `{ ca }`, `{ fingerprint }` or `{ insecure: true }` say otherwise. Connect mode then measures
   * full handshakes (each connection's latency includes its handshake). A refused certificate
   * ends the run as no server does: `TCPECHO_ERR_TLS_VERIFY`. @default false
   */
  tls?: boolean | TlsClientOptions;
  /**
   * Connect mode with `tls`: each connect loop offers the session (ticket) of its last connection,
   * so the handshakes measured are resumed ones; `tlsResumed` in the result counts those the
   * server did resume. @default false
   */
  tlsResume?: boolean;
  /**
   * UDP (RFC 862) instead of TCP: each connection is a flow of datagrams from its own port, in
   * ping-pong; loss is counted, not an error (see `BenchResult.udp`). `timeoutMs` defaults to 1000.
   * @default false
   */
  udp?: boolean;
  /** Ends the run early; the partial results are returned with `interrupted: true`. */
  signal?: AbortSignal;
  /** Called about once a second while counting, with the figures so far. */
  onProgress?: (progress: BenchProgress) => void;
}

export interface BenchProgress {
  elapsedS: number;
  messages: number;
  errors: number;
}

export interface LatencySummary {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface BenchResult {
  mode: BenchMode;
  /** `HOST:PORT`, or `unix:PATH`. */
  target: string;
  /** Whether the connections spoke TLS. */
  tls: boolean;
  connections: number;
  size: number;
  pipeline: number;
  /** Seconds actually counted. */
  durationS: number;
  messages: number;
  messagesPerS: number;
  /** Echoed payload received, MiB/s (one direction). */
  mibPerS: number;
  /** Payload sent, MiB/s. */
  sentMibPerS: number;
  /** Connect mode: connections completed per second (with TLS: handshakes, full or resumed). */
  connectionsPerS: number;
  /** Connect mode with TLS: connections counted whose session the server resumed (`tlsResume`). */
  tlsResumed: number;
  /** Connect mode with TLS: connections counted that made a full handshake. */
  tlsFull: number;
  /** Per message (connect mode: connect call to server FIN), microseconds. */
  latencyUs: LatencySummary;
  /**
   * CPU the generator's process used in the counted window, in percent of one core. Near 100 (per
   * thread) means the generator, not the server, may be what limits the figures.
   */
  cpuPercent: { user: number; system: number };
  errors: Record<ErrorKind, number>;
  errorTotal: number;
  /** The first few errors, described. */
  errorSamples: string[];
  interrupted: boolean;
  /** `udp: true` only: the datagram counts of the measured window. */
  udp?: UdpBenchFigures;
  // What `tcpecho bench merge` (`mergeBenchResults`) needs to add runs up exactly.
  /** Marks a result `mergeBenchResults` can read: `tcpecho-bench/1`. */
  format: typeof BENCH_RESULT_FORMAT;
  transport: BenchTransport;
  /** Whether TLS sessions were resumed (`tlsResume`). */
  tlsResume: boolean;
  /** `rate`, when given: connections (connect mode) or datagrams (UDP) a second; merged, the sum. */
  rate?: number;
  /** An id per run these figures cover (a random UUID each): one for a run, several once merged. */
  runs: string[];
  /**
   * The measured window, in milliseconds since the epoch (this host's clock): one for a run; once
   * merged, the union of the runs' windows, disjoint and in order. `durationS` is their length.
   */
  windows: BenchWindow[];
  counts: BenchCounts;
  /**
   * Every latency of the window in microseconds, as HdrHistogram's compressed base64 encoding
   * (lowest 1, highest 3,600,000,000, 3 significant digits): `decodeFromCompressedBase64` of
   * hdr-histogram-js (or of HdrHistogram in another language) reads it back.
   */
  latencyHistogram: string;
}

/** The `format` of a result that `mergeBenchResults` reads. */
export const BENCH_RESULT_FORMAT = 'tcpecho-bench/1';

/** What the connections ran over: TCP (with or without TLS), a Unix socket, or UDP datagrams. */
export type BenchTransport = 'tcp' | 'unix' | 'udp';

export interface BenchWindow {
  startMs: number;
  endMs: number;
}

/** The exact counts behind a result's rates. */
export interface BenchCounts {
  /** Payload sent in the window, bytes. */
  bytesSent: number;
  /** Echoed payload received (and checked) in the window, bytes. */
  bytesReceived: number;
  /** Connect mode: connections completed in the window. */
  connectionsCompleted: number;
  /** CPU the generator's process used in the window, microseconds (merged: every run's added). */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Bytes sent over the whole run, warm-up and drain included: what the server was sent. */
  runBytesSent: number;
  /** Bytes received and checked over the whole run: what the server echoed, when nothing failed. */
  runBytesReceived: number;
}

/** What `bench --udp` counts besides the TCP figures: every datagram sent in the window ends up echoed or lost. */
export interface UdpBenchFigures {
  /** Datagrams sent in the measured window. */
  sent: number;
  /** Echoed within the timeout, every byte checked. */
  echoed: number;
  /** No echo within the timeout. */
  lost: number;
  /** Echoes that came after their datagram was counted lost. */
  late: number;
  /** Second copies of echoes already received. */
  duplicated: number;
  /** Echoes that came after the echo of a later datagram of the same flow (with `rate`). */
  reordered: number;
  /** lost / sent. */
  lossRate: number;
  /** `rate`, when given: datagrams a second sent, in all. */
  rate?: number;
}
