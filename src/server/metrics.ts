import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionClose } from './connection-events.js';
import type { ConnectionReject, EchoServer } from './types.js';

/** Connection durations, in seconds: from a round trip on loopback to a long-lived session. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 3600];

/**
 * The Prometheus figures of one server, in a registry of its own (never prom-client's global
 * one: two servers in one process must not mix). Every series carries `mode="event|fork|cluster"`.
 *
 * Counted in this process from the server's own events: fork children and cluster workers
 * already send each connection's record to the parent over IPC and the parent emits
 * `connection`, `disconnect` and `reject` for them, so the figures cover the whole process tree
 * and a child's counts outlive it. Gauges (open connections, processes) are read from the server
 * when scraped.
 *
 * - `tcpecho_connections_total`: connections handed to what echoes them (`connection` events);
 * - `tcpecho_connections_open`: accepted and not yet closed, including clients waiting for a process;
 * - `tcpecho_connections_closed_total{reason}`: by close reason (`eof`, `reset`, `tls-error`, ...);
 * - `tcpecho_connections_rejected_total{reason}`: `max-connections`, `denied`, `refused`;
 * - `tcpecho_received_bytes_total`, `tcpecho_echoed_bytes_total`: of closed connections;
 * - `tcpecho_connection_duration_seconds`: histogram of closed connections;
 * - `tcpecho_tls_handshake_failures_total{code}`: closes with reason `tls-error`, by code;
 * - `tcpecho_processes{role}`: fork mode `child` (spares included) and `spare`; cluster mode `worker`.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** The figures in the Prometheus text format (`registry.contentType`). */
  text(): Promise<string>;
  /** Stops counting: removes the listeners from the server. */
  detach(): void;
}

/** Starts counting `server`'s connections in a new registry; see {@link ServerMetrics}. */
export function serverMetrics(server: EchoServer): ServerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ mode: server.mode });
  const registers = [registry];
  const accepted = new Counter({ name: 'tcpecho_connections_total', help: 'Connections accepted and handed to what echoes them', registers });
  new Gauge({
    name: 'tcpecho_connections_open',
    help: 'Connections accepted and not yet closed, including clients waiting for a process',
    registers,
    collect() {
      this.set(server.connections);
    },
  });
  const closed = new Counter({ name: 'tcpecho_connections_closed_total', help: 'Connections closed, by reason', labelNames: ['reason'], registers });
  const rejected = new Counter({ name: 'tcpecho_connections_rejected_total', help: 'Connections closed at once, unread, by reason', labelNames: ['reason'], registers });
  const received = new Counter({ name: 'tcpecho_received_bytes_total', help: 'Bytes received from clients (closed connections)', registers });
  const echoed = new Counter({ name: 'tcpecho_echoed_bytes_total', help: 'Bytes echoed back to clients (closed connections)', registers });
  const duration = new Histogram({ name: 'tcpecho_connection_duration_seconds', help: 'How long connections lasted', buckets: DURATION_BUCKETS, registers });
  const tlsFailures = new Counter({ name: 'tcpecho_tls_handshake_failures_total', help: 'TLS handshakes that failed or timed out, by code', labelNames: ['code'], registers });
  if (server.mode !== 'event') {
    new Gauge({
      name: 'tcpecho_processes',
      help: 'Processes serving connections: fork mode children (spares included) and spares, cluster mode workers',
      labelNames: ['role'],
      registers,
      collect() {
        if (server.mode === 'cluster') {
          this.set({ role: 'worker' }, server.childPids.length);
        } else {
          this.set({ role: 'child' }, server.childPids.length);
          this.set({ role: 'spare' }, server.sparePids.length);
        }
      },
    });
  }

  const onConnection = (): void => accepted.inc();
  const onDisconnect = (info: ConnectionClose): void => {
    closed.inc({ reason: info.reason });
    // inc(0) would still be a write; most closes of a bench carry bytes, a reject-like close none.
    if (info.bytesRead > 0) received.inc(info.bytesRead);
    if (info.bytesWritten > 0) echoed.inc(info.bytesWritten);
    duration.observe(info.durationMs / 1000);
    if (info.reason === 'tls-error') tlsFailures.inc({ code: info.errorCode ?? 'unknown' });
  };
  const onReject = (info: ConnectionReject): void => rejected.inc({ reason: info.reason });
  server.on('connection', onConnection);
  server.on('disconnect', onDisconnect);
  server.on('reject', onReject);
  return {
    registry,
    text: () => registry.metrics(),
    detach() {
      server.off('connection', onConnection);
      server.off('disconnect', onDisconnect);
      server.off('reject', onReject);
    },
  };
}
