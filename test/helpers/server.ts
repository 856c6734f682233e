import type { TestContext } from 'node:test';
import { startEchoServer, type EchoServer, type EchoServerOptions } from '../../src/index.js';

/** An in-process server on 127.0.0.1 and a free port, destroyed when the test ends. */
export async function startTestServer(t: TestContext, options: EchoServerOptions = {}): Promise<EchoServer> {
  const server = await startEchoServer({ host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.destroy());
  return server;
}
