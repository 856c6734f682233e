import type { ConnectionClose } from './connection-events.js';
import type { ConnectionReject, ServerMode } from './types.js';

/** Connection durations, in seconds: from a round trip on loopback to a long-lived session. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 3600] as const;
/** Fork mode hand-offs, in seconds: a ready spare (about a millisecond) to a child started for the client (~150 ms) and a queue. */
export const HANDOFF_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/** A histogram's figures, as Prometheus has them: cumulative buckets, the count and the sum. */
export interface HistogramFigures {
  /** Observations so far. */
  count: number;
  /** Their sum, in seconds. */
  sum: number;
  /** For each bucket bound `le` (seconds), the observations at most that long; the `+Inf` bucket is `count`. */
  buckets: Array<{ le: number; count: number }>;
}

/**
 * What `server.metrics()` returns: the figures `/metrics` serves, counted from the server's start
 * in the process that owns it (fork children and cluster workers report each connection over IPC,
 * so the figures cover the whole process tree, and an exited child's counts stay). Each field
 * names its Prometheus series.
 */
export interface EchoServerMetrics {
  mode: ServerMode;
  /** `tcpecho_connections_total`: connections handed to what echoes them (`connection` events). */
  connections: number;
  /** `tcpecho_connections_open`: accepted and not yet closed (`server.connections`). */
  open: number;
  /** `tcpecho_connections_closed_total{reason}`: `disconnect` events by reason (`eof`, `reset`, ...). */
  closed: Record<string, number>;
  /** `tcpecho_connections_rejected_total{reason}`: `reject` events by reason. */
  rejected: Record<string, number>;
  /** `tcpecho_received_bytes_total`: bytes received, of closed connections. */
  receivedBytes: number;
  /** `tcpecho_echoed_bytes_total`: bytes echoed, of closed connections. */
  echoedBytes: number;
  /** `tcpecho_connection_duration_seconds`: how long closed connections lasted. */
  durationSeconds: HistogramFigures;
  /** `tcpecho_tls_handshakes_total{version}`: closed connections whose TLS handshake had succeeded, by protocol (`TLSv1.3`). */
  tlsHandshakes: Record<string, number>;
  /** `tcpecho_tls_handshake_failures_total{code}`: closes with reason `tls-error`, by `errorCode`. */
  tlsHandshakeFailures: Record<string, number>;
  /**
   * `tcpecho_faults_applied_total{fault}`: connections each fault acted on: the echo faults of the
   * close records (`delay`, `bandwidth`, `chunk`, `close`, `reset`, `stall`, `accept-delay`), and
   * `refuse` for the connections `refuseRate` reset (also rejects with reason `refused`).
   */
  faults: Record<string, number>;
  /** Fork mode only. */
  fork?: {
    /** `tcpecho_processes{role="child"}`: children alive now, spares included. */
    children: number;
    /** `tcpecho_processes{role="spare"}`: started, ready, waiting for a client. */
    spares: number;
    /** `tcpecho_child_starts_total`: children started (every `fork()`, spares included). */
    childStarts: number;
    /** `tcpecho_child_start_failures_total`: of those, the ones that could not start or exited before they were ready. */
    childStartFailures: number;
    /** `tcpecho_handoff_seconds`: from accept in the parent to the child's word that it has the socket. */
    handOffSeconds: HistogramFigures;
  };
  /** Cluster mode only. */
  cluster?: {
    /** `tcpecho_processes{role="worker"}`: workers alive now (starting ones included). */
    workers: number;
    /** `tcpecho_worker_restarts_total`: replacements started for workers that exited. */
    workerRestarts: number;
  };
}

/** One histogram's bucket counts (not cumulative: the snapshot adds them up). */
export class BucketCounts {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #count = 0;
  #sum = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = bounds.map(() => 0);
  }

  observe(seconds: number): void {
    this.#count++;
    this.#sum += seconds;
    const i = this.#bounds.findIndex((le) => seconds <= le);
    if (i >= 0) this.#counts[i] = (this.#counts[i] as number) + 1;
  }

  figures(): HistogramFigures {
    let below = 0;
    const buckets = this.#bounds.map((le, i) => ({ le, count: (below += this.#counts[i] as number) }));
    return { count: this.#count, sum: this.#sum, buckets };
  }
}

/**
 * The counts of one server, in the process that owns it, fed where that server emits its events
 * (and by fork mode's dispatcher and cluster mode's supervisor for their processes). Plain numbers:
 * counting costs a few additions per connection, and prom-client loads only with the endpoint.
 */
export class ServerCounters {
  connections = 0;
  receivedBytes = 0;
  echoedBytes = 0;
  readonly closed = new Map<string, number>();
  readonly rejected = new Map<string, number>();
  readonly duration = new BucketCounts(DURATION_BUCKETS);
  readonly tlsHandshakes = new Map<string, number>();
  readonly tlsFailures = new Map<string, number>();
  readonly faults = new Map<string, number>();
  childStarts = 0;
  childStartFailures = 0;
  readonly handOff = new BucketCounts(HANDOFF_BUCKETS);
  workerRestarts = 0;

  opened(): void {
    this.connections++;
  }

  closedConnection(info: ConnectionClose): void {
    add(this.closed, info.reason);
    this.receivedBytes += info.bytesRead;
    this.echoedBytes += info.bytesWritten;
    this.duration.observe(info.durationMs / 1000);
    if (info.tls !== undefined) add(this.tlsHandshakes, info.tls.protocol);
    if (info.reason === 'tls-error') add(this.tlsFailures, info.errorCode ?? 'unknown');
    if (info.faults !== undefined) for (const fault of info.faults) add(this.faults, fault);
  }

  rejectedConnection(reason: ConnectionReject['reason']): void {
    add(this.rejected, reason);
    if (reason === 'refused') add(this.faults, 'refuse');
  }

  /** The figures every mode has; the server adds `fork` or `cluster`. */
  snapshot(mode: ServerMode, open: number): EchoServerMetrics {
    return {
      mode,
      connections: this.connections,
      open,
      closed: Object.fromEntries(this.closed),
      rejected: Object.fromEntries(this.rejected),
      receivedBytes: this.receivedBytes,
      echoedBytes: this.echoedBytes,
      durationSeconds: this.duration.figures(),
      tlsHandshakes: Object.fromEntries(this.tlsHandshakes),
      tlsHandshakeFailures: Object.fromEntries(this.tlsFailures),
      faults: Object.fromEntries(this.faults),
    };
  }
}

function add(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
