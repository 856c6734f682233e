// The public types of the UDP echo server.
import type { EventEmitter } from 'node:events';
import type { EchoServerAddress } from '../types.js';
import type { Faults } from '../faults/faults.js';
import type { EvictReason } from './source-table.js';

export interface UdpEchoServerOptions {
  /** Port to bind; 0 picks a free one. @default 0 */
  port?: number;
  /** Address to bind; `'*'` is every interface, IPv6 and IPv4 (one dual-stack socket). @default '127.0.0.1' */
  host?: string;
  /** With `host: '::'` (or `'*'`), IPv6 sources only. @default false */
  ipv6Only?: boolean;
  /**
   * An inherited descriptor (3 or above) of a bound UDP socket to serve on instead of binding
   * (`host`, `port` and `ipv6Only` are then the socket's own); the CLI sets it under socket
   * activation. Anything but a UDP socket is `InheritedSocketError`.
   */
  listenFd?: number;
  /** Forget a source address silent for this long (its counters and rate); 0: only when the table is full. @default 30000 */
  idleTimeoutMs?: number;
  /** Echo only datagrams from these addresses or networks (`'127.0.0.0/8'`); others are dropped (`denied`). @default [] (everyone) */
  allow?: string[];
  /** Drop datagrams from these addresses or networks; wins over `allow`. @default [] */
  deny?: string[];
  /** Every datagram received, in `hexdump -C` layout, on stderr (bounded: past 1 MiB unwritten, dumps are skipped and counted). @default false */
  hexdump?: boolean;
  /** Also answer source port 0 and the ports of reflecting services (see REFLECTING_PORTS). For a lab only. @default false */
  udpAllowLowPorts?: boolean;
  /** Most datagrams a second echoed per source address (token bucket, 1 s of burst); 0: no limit. @default 10000 */
  udpRate?: number;
  /** Most source addresses tracked at once; past it the one known longest is evicted. @default 65536 */
  udpMaxSources?: number;
  /**
   * Faults on the echo from the start: `delayMs` and `jitterMs` hold each echo (a uniform ±jitter,
   * never below 0, so datagrams may be reordered, as on a real network), on a share `faultRate`
   * of the datagrams, drawn per datagram. The other faults act on connections: a `UsageError`.
   * @default none
   */
  faults?: Faults;
  /** Serve `GET /metrics` (the `stats`, in Prometheus text), `/healthz` and `/readyz` on this port and host, with the server; as `startEchoServer`'s. @default off */
  metrics?: { port: number; host?: string };
}

/** Why a datagram got no echo. */
export type DropReason = 'reflection-port' | 'rate' | 'denied' | 'send-queue' | 'delay-queue';
/** `delay-queue`: a delayed echo that would have taken the bytes held past their bound (1 MiB). */
export const DROP_REASONS: readonly DropReason[] = ['reflection-port', 'rate', 'denied', 'send-queue', 'delay-queue'];

export interface UdpSourceInfo {
  /** The source address (an IPv4-mapped one as its IPv4 address). */
  address: string;
  /** The port of its first datagram. */
  port: number;
}

export interface UdpSourceEvicted extends UdpSourceInfo {
  /** `idle`: silent for `idleTimeoutMs`; `full`: the table was full; `close`: the server closed. */
  reason: EvictReason;
  /** Datagrams echoed to it. */
  datagrams: number;
  bytes: number;
  /** Its datagrams dropped, for any reason. */
  dropped: number;
}

export interface UdpDrop {
  address: string;
  /** The source port of the datagram dropped. */
  port: number;
  reason: DropReason;
  /** This source's datagrams dropped so far, every reason. */
  dropped: number;
}

export interface UdpEchoStats {
  /** Datagrams received, echoed or not. */
  received: number;
  echoed: number;
  echoedBytes: number;
  dropped: Record<DropReason, number>;
  /** Sources in the table now. */
  sources: number;
  /** Sources evicted so far (idle or table full). */
  evicted: number;
  /** `hexdump`: datagrams not dumped because stderr was behind. */
  hexdumpSkipped: number;
  /** Datagrams whose echo a delay fault held (echoed when due, or dropped if the server closed first). */
  delayed: number;
}

export interface UdpEchoServerEvents {
  /** A source address was seen for the first time (or again after it was evicted). */
  source: [info: UdpSourceInfo];
  /** A source was forgotten. */
  evict: [info: UdpSourceEvicted];
  /** A datagram got no echo; at most one event a second per source (the stats count every one). */
  drop: [info: UdpDrop];
  /** A failure that did not stop the server (a send error). */
  warning: [error: Error];
  /** Emitted once, when the socket is closed. */
  close: [];
}

/**
 * A UDP echo server (RFC 862). Get one from {@link startUdpEchoServer}. UDP has nothing to drain:
 * `close()` and `destroy()` both close the socket now; both are safe to call more than once.
 */
export interface UdpEchoServer extends EventEmitter<UdpEchoServerEvents> {
  readonly mode: 'event';
  readonly transport: 'udp';
  readonly address: EchoServerAddress;
  /** `HOST:PORT`, IPv6 hosts in brackets. */
  readonly url: string;
  /** What `/metrics` serves for a UDP server. */
  readonly stats: UdpEchoStats;
  /** True from the moment `close()` or `destroy()` is called. */
  readonly closing: boolean;
  /** With the `metrics` option: the endpoint's `http://HOST:PORT`; else undefined. */
  readonly metricsUrl: string | undefined;
  /**
   * Replaces the faults in force (see `faults`), for the next datagram on; datagrams already held
   * leave when they were due. Rejects with a `UsageError` (nothing changed) for a bad value or a
   * fault UDP does not have.
   */
  setFaults(faults: Faults): Promise<void>;
  /** The same as `setFaults({})`. */
  clearFaults(): Promise<void>;
  /** The faults in force (`{}` when none). */
  getFaults(): Faults;
  /** Datagrams held by a delay are dropped. */
  close(): Promise<void>;
  destroy(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
