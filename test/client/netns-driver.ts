// Runs inside a fresh network namespace with only loopback up (started by
// test/cli/client-address.test.ts): listens on 127.0.0.1 and ::1, ports 7007 and 9000 (fixed
// ports are safe in a namespace of our own), runs the built client once per case with `ping` on
// stdin, and prints on stdout, as JSON, what each run printed and which listener it reached.
import net from 'node:net';
import { once } from 'node:events';
import { formatAddress } from '../../src/options/values.js';
import { runCli } from '../helpers/cli.js';
import { within } from '../helpers/timeout.js';

export interface CaseResult {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  /** The listeners that got a connection, as `HOST:PORT`. */
  reached: string[];
}

const cases = JSON.parse(process.argv[2] ?? '[]') as string[][];
let reached: string[] = [];
const servers: net.Server[] = [];
for (const host of ['127.0.0.1', '::1']) {
  for (const port of [7007, 9000]) {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      reached.push(formatAddress(host, port));
      socket.pipe(socket);
    });
    server.listen(port, host);
    await within(once(server, 'listening'), 5000, 'server listening');
    servers.push(server);
  }
}

const results: CaseResult[] = [];
for (const args of cases) {
  reached = [];
  const result = await runCli(['client', ...args], { input: 'ping', timeoutMs: 15_000 });
  results.push({ args, code: result.code, stdout: result.stdout.toString(), stderr: result.stderr, reached });
}
for (const server of servers) server.close();
process.stdout.write(JSON.stringify(results));
