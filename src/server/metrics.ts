import { Counter, Gauge, Registry, type Histogram } from 'prom-client';
import type { EchoServerMetrics, HistogramFigures } from './server-counters.js';
import type { EchoServer } from './types.js';
import { DROP_REASONS, type UdpEchoServer, type UdpEchoStats } from './udp/types.js';

/**
 * The Prometheus figures of one server, in a registry of its own (never prom-client's global
 * one: two servers in one process must not mix). Every series carries `mode="event|fork|cluster"`.
 *
 * The figures are the server's own, read when scraped: `server.metrics()` for a TCP server (see
 * {@link EchoServerMetrics} for each series), `server.stats` for a UDP one. They count from the
 * server's start, and a page is one snapshot of them. Fork children and cluster workers send
 * each connection's record to the parent over IPC, so the figures cover the whole process tree.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** The figures in the Prometheus text format (`registry.contentType`), all from one snapshot. */
  text(): Promise<string>;
}

/** A registry that serves `server`'s figures; see {@link ServerMetrics}. */
export function serverMetrics(server: EchoServer | UdpEchoServer): ServerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ mode: server.mode });
  // One snapshot per page (text() sets it); a caller of registry.metrics() gets one per series.
  let page: EchoServerMetrics | UdpEchoStats | undefined;
  if (isUdp(server)) {
    udpSeries(registry, () => (page as UdpEchoStats | undefined) ?? server.stats);
  } else {
    tcpSeries(registry, () => (page as EchoServerMetrics | undefined) ?? server.metrics(), server.mode);
  }
  return {
    registry,
    async text() {
      page = isUdp(server) ? server.stats : server.metrics();
      try {
        return await registry.metrics();
      } finally {
        page = undefined;
      }
    },
  };
}

function isUdp(server: EchoServer | UdpEchoServer): server is UdpEchoServer {
  return (server as Partial<UdpEchoServer>).transport === 'udp';
}

function tcpSeries(registry: Registry, read: () => EchoServerMetrics, mode: EchoServer['mode']): void {
  const registers = [registry];
  counter(registers, 'tcpecho_connections_total', 'Connections accepted and handed to what echoes them', () => read().connections);
  new Gauge({
    name: 'tcpecho_connections_open',
    help: 'Connections accepted and not yet closed, including clients waiting for a process',
    registers,
    collect() {
      this.set(read().open);
    },
  });
  labelled(registers, 'tcpecho_connections_closed_total', 'Connections closed, by reason', 'reason', () => read().closed);
  labelled(registers, 'tcpecho_connections_rejected_total', 'Connections closed at once, unread, by reason', 'reason', () => read().rejected);
  counter(registers, 'tcpecho_received_bytes_total', 'Bytes received from clients (closed connections)', () => read().receivedBytes);
  counter(registers, 'tcpecho_echoed_bytes_total', 'Bytes echoed back to clients (closed connections)', () => read().echoedBytes);
  histogram(registry, 'tcpecho_connection_duration_seconds', 'How long connections lasted', () => read().durationSeconds);
  labelled(registers, 'tcpecho_tls_handshakes_total', 'TLS handshakes that succeeded, by protocol version (counted when the connection closes)', 'version', () => read().tlsHandshakes);
  labelled(registers, 'tcpecho_tls_handshake_failures_total', 'TLS handshakes that failed or timed out, by code', 'code', () => read().tlsHandshakeFailures);
  labelled(registers, 'tcpecho_faults_applied_total', 'Connections each fault acted on, by fault', 'fault', () => read().faults);
  if (mode === 'event') return;
  new Gauge({
    name: 'tcpecho_processes',
    help: 'Processes serving connections: fork mode children (spares included) and spares, cluster mode workers',
    labelNames: ['role'],
    registers,
    collect() {
      const { fork, cluster } = read();
      if (cluster !== undefined) this.set({ role: 'worker' }, cluster.workers);
      if (fork !== undefined) {
        this.set({ role: 'child' }, fork.children);
        this.set({ role: 'spare' }, fork.spares);
      }
    },
  });
  if (mode === 'fork') {
    counter(registers, 'tcpecho_child_starts_total', 'Child processes started, spares included', () => read().fork?.childStarts ?? 0);
    counter(registers, 'tcpecho_child_start_failures_total', 'Child processes that could not start or exited before they were ready', () => read().fork?.childStartFailures ?? 0);
    histogram(registry, 'tcpecho_handoff_seconds', 'From accept in the parent to the child having the socket', () => read().fork?.handOffSeconds ?? EMPTY);
  } else {
    counter(registers, 'tcpecho_worker_restarts_total', 'Workers started to replace ones that exited', () => read().cluster?.workerRestarts ?? 0);
  }
}

function udpSeries(registry: Registry, read: () => UdpEchoStats): void {
  const registers = [registry];
  counter(registers, 'tcpecho_udp_datagrams_received_total', 'Datagrams received, echoed or not', () => read().received);
  counter(registers, 'tcpecho_udp_datagrams_echoed_total', 'Datagrams echoed', () => read().echoed);
  counter(registers, 'tcpecho_udp_echoed_bytes_total', 'Bytes of the datagrams echoed', () => read().echoedBytes);
  // Every reason, zero or not: the reasons are few and fixed.
  labelled(registers, 'tcpecho_udp_datagrams_dropped_total', 'Datagrams not echoed, by reason', 'reason', () => {
    const { dropped } = read();
    return Object.fromEntries(DROP_REASONS.map((reason) => [reason, dropped[reason]]));
  });
  new Gauge({
    name: 'tcpecho_udp_sources',
    help: 'Source addresses tracked now',
    registers,
    collect() {
      this.set(read().sources);
    },
  });
  counter(registers, 'tcpecho_udp_sources_evicted_total', 'Source addresses forgotten (idle, or the table full)', () => read().evicted);
  // The one fault a datagram has; the same series as a TCP server's.
  labelled(registers, 'tcpecho_faults_applied_total', 'Datagrams each fault acted on, by fault', 'fault', () => ({ delay: read().delayed }));
}

type Registers = Registry[];

/** A counter whose value is read from the server when scraped. */
function counter(registers: Registers, name: string, help: string, value: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

/** A counter with one label, one series per key of what `values` returns. */
function labelled(registers: Registers, name: string, help: string, label: string, values: () => Record<string, number>): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      for (const [key, value] of Object.entries(values())) this.inc({ [label]: key }, value);
    },
  });
}

const EMPTY: HistogramFigures = { count: 0, sum: 0, buckets: [] };

/**
 * A histogram whose buckets are kept by the server (server-counters.ts). prom-client's Histogram
 * has no way to be given counts, only observations, so this is a metric of our own that the
 * registry reads as it reads its own: through `get()`, which returns the metric's name, help, type
 * and sample values (`NAME_bucket{le}`, `NAME_sum`, `NAME_count`), the shape prom-client's
 * Histogram returns. The test of the page checks the lines it gives.
 */
function histogram(registry: Registry, name: string, help: string, figures: () => HistogramFigures): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const { count, sum, buckets } = figures();
      const values = [
        ...buckets.map(({ le, count: n }) => ({ metricName: `${name}_bucket`, labels: { le }, value: n })),
        { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count },
        { metricName: `${name}_sum`, labels: {}, value: sum },
        { metricName: `${name}_count`, labels: {}, value: count },
      ];
      return Promise.resolve({ name, help, type: 'histogram', values, aggregator: 'sum' });
    },
    /** Registry#resetMetrics: the figures are the server's, read again at the next scrape (as the counters' are). */
    reset() {},
  };
  // Not a prom-client Histogram, only shaped like one where the registry reads it (see above).
  registry.registerMetric(metric as unknown as Histogram);
}
