// The load generator's public types (exported by `tcpecho/bench`), apart from the code that
// uses them, so that every bench module can import them without importing each other.

/** The kinds of error a run can count; any one makes the run fail. */
export const ERROR_KINDS = ['connect', 'mismatch', 'short', 'reset', 'timeout', 'no-fin', 'error'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

import { BENCH_MODES } from '../options/table.js';

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
  /** Connect mode: connections completed per second. */
  connectionsPerS: number;
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
