import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TcpechoError } from '../errors.js';
import { listenError } from './listen.js';
import type { Faults } from './faults/faults.js';

/** What the API drives: a TCP server (`EchoServer`) or the UDP one. */
export interface FaultControl {
  getFaults(): Faults;
  setFaults(faults: Faults): Promise<void>;
  clearFaults(): Promise<void>;
}

/** Bodies past this are refused: the API takes one small JSON object. */
const MAX_BODY = 64 * 1024;

export interface ControlEndpoint {
  /** `http://HOST:PORT`, with the real port. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The fault control API over HTTP, for a test to break and heal the network while the server
 * runs: `GET /faults` (the faults in force, JSON), `PUT /faults` (a JSON object of faults, as
 * `setFaults` takes; resolves once every child and worker has them), `DELETE /faults` (clear).
 * A bad body is 400 with a one-line reason, and nothing changes. Node's own `http`: three routes
 * need no framework.
 */
export async function startControlEndpoint(server: FaultControl, options: { port: number; host: string }): Promise<ControlEndpoint> {
  const endpoint = http.createServer((request, response) => void handle(server, request, response));
  endpoint.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    endpoint.once('error', (err) => reject(listenError(err, options.host, options.port)));
    endpoint.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = endpoint.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => new Promise<void>((resolve) => {
      endpoint.close(() => resolve());
      endpoint.closeAllConnections();
    }),
  };
}

async function handle(server: FaultControl, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const reply = (status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  };
  const path = (request.url ?? '').split('?')[0];
  if (path !== '/faults') return reply(404, { error: 'Not found: the API is GET, PUT and DELETE /faults' });
  try {
    switch (request.method) {
      case 'GET':
        return reply(200, server.getFaults());
      case 'DELETE':
        await server.clearFaults();
        return reply(200, server.getFaults());
      case 'PUT': {
        const text = await body(request);
        let faults: unknown;
        try {
          faults = JSON.parse(text);
        } catch {
          return reply(400, { error: 'The body is not JSON' });
        }
        await server.setFaults(faults as Faults);
        return reply(200, server.getFaults());
      }
      default:
        response.setHeader('allow', 'GET, PUT, DELETE');
        return reply(405, { error: `Method ${String(request.method)} not allowed: GET, PUT or DELETE` });
    }
  } catch (err) {
    if (err instanceof TcpechoError) return reply(400, { error: err.message });
    return reply(500, { error: String(err) });
  }
}

function body(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        request.destroy();
        reject(new TcpechoError('TCPECHO_ERR_USAGE', `The body is larger than ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
