import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { EchoServerMetrics, HistogramFigures } from '../../src/index.js';
import { within } from './timeout.js';

/** GET `url`: the status and the body; bounded by `timeoutMs`. */
export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string; type: string }> {
  const got = new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
    const request = http.get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, type: String(response.headers['content-type']) }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
  return within(got, timeoutMs, `GET ${url}`);
}

/**
 * The samples of a Prometheus text page, keyed `name{label="v",...}` with the labels sorted and
 * `mode` left out (every series has it; the test checks it once).
 */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = (match[2] ?? '').split(',').filter((label) => label !== '' && !label.startsWith('mode=')).sort();
    samples.set(labels.length === 0 ? (match[1] as string) : `${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return samples;
}

/** Resolves once a new connection to the endpoint at `url` is refused: it has closed. */
export async function refusedAt(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  const [err] = (await within(once(socket, 'error'), 5000, `a connection to ${url} refused`).finally(() => socket.destroy())) as [NodeJS.ErrnoException];
  if (err.code !== 'ECONNREFUSED') throw err;
}

/** The samples of `/metrics` on `url` (the endpoint's `http://HOST:PORT`). */
export async function scrape(url: string): Promise<Map<string, number>> {
  const page = await httpGet(`${url}/metrics`);
  if (page.status !== 200) throw new Error(`GET ${url}/metrics: ${page.status} ${page.body}`);
  return parseMetrics(page.body);
}

/**
 * The samples a page must have for `m`, written from the documented names (docs/operations.md),
 * independently of the code that renders them: what makes "server.metrics() equals /metrics" a check.
 */
export function samplesOf(m: EchoServerMetrics): Map<string, number> {
  const s = new Map<string, number>();
  const labelled = (name: string, label: string, values: Record<string, number>): void => {
    for (const [key, value] of Object.entries(values)) s.set(`${name}{${label}="${key}"}`, value);
  };
  const histogram = (name: string, h: HistogramFigures): void => {
    for (const { le, count } of h.buckets) s.set(`${name}_bucket{le="${le}"}`, count);
    s.set(`${name}_bucket{le="+Inf"}`, h.count);
    s.set(`${name}_sum`, h.sum);
    s.set(`${name}_count`, h.count);
  };
  s.set('tcpecho_connections_total', m.connections);
  s.set('tcpecho_connections_open', m.open);
  labelled('tcpecho_connections_closed_total', 'reason', m.closed);
  labelled('tcpecho_connections_rejected_total', 'reason', m.rejected);
  s.set('tcpecho_received_bytes_total', m.receivedBytes);
  s.set('tcpecho_echoed_bytes_total', m.echoedBytes);
  histogram('tcpecho_connection_duration_seconds', m.durationSeconds);
  labelled('tcpecho_tls_handshakes_total', 'version', m.tlsHandshakes);
  labelled('tcpecho_tls_handshake_failures_total', 'code', m.tlsHandshakeFailures);
  labelled('tcpecho_faults_applied_total', 'fault', m.faults);
  if (m.fork !== undefined) {
    s.set('tcpecho_processes{role="child"}', m.fork.children);
    s.set('tcpecho_processes{role="spare"}', m.fork.spares);
    s.set('tcpecho_child_starts_total', m.fork.childStarts);
    s.set('tcpecho_child_start_failures_total', m.fork.childStartFailures);
    histogram('tcpecho_handoff_seconds', m.fork.handOffSeconds);
  }
  if (m.cluster !== undefined) {
    s.set('tcpecho_processes{role="worker"}', m.cluster.workers);
    s.set('tcpecho_worker_restarts_total', m.cluster.workerRestarts);
  }
  return new Map([...s].sort(([a], [b]) => a.localeCompare(b)));
}

/** The samples of a page, sorted by key, to compare with samplesOf. */
export function sorted(samples: Map<string, number>): Map<string, number> {
  return new Map([...samples].sort(([a], [b]) => a.localeCompare(b)));
}
