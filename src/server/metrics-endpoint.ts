import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { checkValue } from '../options/resolve.js';
import { optionsOf } from '../options/table.js';
import { listenError } from './listen.js';
import type { ServerMetrics } from './metrics.js';
import type { EchoServer } from './types.js';
import type { UdpEchoServer } from './udp/types.js';

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
  /** Stops serving. */
  close(): Promise<void>;
}

/**
 * The `metrics` option of `startEchoServer` and `startUdpEchoServer`, checked as the command
 * line's `--metrics-port` and `--metrics-host` are; undefined when not given.
 */
export function metricsOption(value: unknown): MetricsEndpointOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`Expected \`metrics\` to be { port, host }, got \`${String(value)}\``);
  }
  const { port, host, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new UsageError(`Unknown field \`metrics.${unknown}\`; expected \`port\` and \`host\``);
  const specs = optionsOf('server');
  const spec = (key: string, name: string) => ({ ...(specs.find((one) => one.key === key) as (typeof specs)[number]), key: name });
  if (port === undefined) throw new UsageError('Expected `metrics.port` to be an integer from 0 to 65535 (0: a free one), got nothing');
  const checked: MetricsEndpointOptions = { port: checkValue(spec('metricsPort', 'metrics.port'), port, 'library') as number };
  if (host !== undefined) checked.host = checkValue(spec('metricsHost', 'metrics.host'), host, 'library') as string;
  return checked;
}

/**
 * Serves `server`'s figures (a TCP server's or a UDP one's) and health over HTTP, for Prometheus
 * and for a balancer or an orchestrator:
 * - `GET /metrics`: the Prometheus text format (see {@link serverMetrics} for the series);
 * - `GET /healthz`: 200 while the process runs;
 * - `GET /readyz`: 200 while the server accepts, 503 from the moment `close()` or `destroy()` is
 *   called (a drain has started: a balancer should send new clients elsewhere).
 *
 * The figures are the server's own, counted from its start (`server.metrics()`, or a UDP server's
 * `stats`), read at each scrape; `startEchoServer({ metrics })` starts one of these with the server
 * and closes it with it. Rejects with `TCPECHO_ERR_ADDRESS_IN_USE` (or another listen error) when
 * it cannot listen. Node's own `http`: three routes need no framework. prom-client is loaded
 * here, on first use: a server without metrics (and `import 'tcpecho'`) does not pay for it.
 */
export async function startMetricsEndpoint(server: EchoServer | UdpEchoServer, options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const { serverMetrics } = await import('./metrics.js');
  const metrics = serverMetrics(server);
  const endpoint = http.createServer((request, response) => void handle(server, metrics, request, response));
  endpoint.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    endpoint.once('error', (err) => reject(listenError(err, host, options.port)));
    endpoint.listen(options.port, host, () => resolve());
  });
  const { address, port } = endpoint.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    metrics,
    close: () => new Promise<void>((resolve) => {
      endpoint.close(() => resolve());
      endpoint.closeAllConnections();
    }),
  };
}

async function handle(server: EchoServer | UdpEchoServer, metrics: ServerMetrics, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
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
