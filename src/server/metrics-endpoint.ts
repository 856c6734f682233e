import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenError } from './listen.js';
import type { ServerMetrics } from './metrics.js';
import type { EchoServer } from './types.js';

export interface MetricsEndpointOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
}

export interface MetricsEndpoint {
  /** `http://HOST:PORT`, with the real port. */
  readonly url: string;
  /** What `/metrics` serves: the registry, to read or to add figures to. */
  readonly metrics: ServerMetrics;
  /** Stops serving and counting. */
  close(): Promise<void>;
}

/**
 * Serves `server`'s figures and health over HTTP, for Prometheus and for a balancer or an
 * orchestrator:
 * - `GET /metrics`: the Prometheus text format (see {@link serverMetrics} for the series);
 * - `GET /healthz`: 200 while the process runs;
 * - `GET /readyz`: 200 while the server accepts, 503 from the moment `close()` or `destroy()` is
 *   called (a drain has started: a balancer should send new clients elsewhere).
 *
 * Counting starts now: call it right after `startEchoServer`. Rejects with `TCPECHO_ERR_ADDRESS_IN_USE`
 * (or another listen error) when it cannot listen, and then counts nothing. Node's own `http`:
 * three routes need no framework. prom-client is loaded here, on first use: a server without
 * metrics (and `import 'tcpecho'`) does not pay for it.
 */
export async function startMetricsEndpoint(server: EchoServer, options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const { serverMetrics } = await import('./metrics.js');
  const metrics = serverMetrics(server);
  const endpoint = http.createServer((request, response) => void handle(server, metrics, request, response));
  endpoint.on('clientError', (_err, socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      endpoint.once('error', (err) => reject(listenError(err, host, options.port)));
      endpoint.listen(options.port, host, () => resolve());
    });
  } catch (err) {
    metrics.detach();
    throw err;
  }
  const { address, port } = endpoint.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    metrics,
    close: () => new Promise<void>((resolve) => {
      metrics.detach();
      endpoint.close(() => resolve());
      endpoint.closeAllConnections();
    }),
  };
}

async function handle(server: EchoServer, metrics: ServerMetrics, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const reply = (status: number, type: string, body: string): void => {
    response.writeHead(status, { 'content-type': type });
    response.end(body);
  };
  const path = (request.url ?? '').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return reply(405, 'text/plain', 'Only GET\n');
  }
  switch (path) {
    case '/metrics':
      try {
        return reply(200, metrics.registry.contentType, await metrics.text());
      } catch (err) {
        return reply(500, 'text/plain', `${String(err)}\n`);
      }
    case '/healthz':
      return reply(200, 'text/plain', 'ok\n');
    case '/readyz':
      return server.closing ? reply(503, 'text/plain', 'draining\n') : reply(200, 'text/plain', 'ready\n');
    default:
      return reply(404, 'text/plain', 'Not found: GET /metrics, /healthz or /readyz\n');
  }
}
