// tcpecho behind a real HAProxy (Debian's `haproxy`, started here): two `--proxy-protocol`
// backends behind `balance roundrobin`, PROXY v2 and then v1, driven by `tcpecho bench`. Checks:
// zero errors with every byte verified, each backend served a share, and the backends' close lines
// carry the bench's address and ports (not HAProxy's, which their open lines show). Then the echo
// health check (`tcp-check send PING` / `expect string PING`): a backend that stops echoing is
// marked down, and the bench runs on the other alone with zero errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { spawnServer } from '../helpers/cli.js';
import { bench, freePort, served, startBalancer } from '../helpers/balancer.js';
import { until } from '../helpers/timeout.js';

const noHaproxy = spawnSync('haproxy', ['-v']).status !== 0 && 'haproxy is not installed (Debian: apt-get install haproxy)';

/** The configuration the README shows, with the ports of this run. */
function haproxyConfig(frontPort: number, backends: number[], sendProxy: 'send-proxy' | 'send-proxy-v2'): string {
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout check 500ms',
    'frontend echo',
    `  bind 127.0.0.1:${frontPort}`,
    '  default_backend tcpecho',
    'backend tcpecho',
    '  balance roundrobin',
    '  option tcp-check',
    '  tcp-check send PING\\r\\n',
    '  tcp-check expect string PING',
    ...backends.map((port, i) => `  server echo${i} 127.0.0.1:${port} ${sendProxy} check inter 200ms fall 2 rise 1`),
    '',
  ].join('\n');
}

interface Haproxy {
  port: number;
  lines: string[];
}

async function startHaproxy(t: TestContext, backends: number[], sendProxy: 'send-proxy' | 'send-proxy-v2'): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcpecho-haproxy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, backends, sendProxy));
  const { lines } = await startBalancer(t, 'haproxy', ['-f', file, '-db'], port);
  return { port, lines };
}

for (const sendProxy of ['send-proxy-v2', 'send-proxy'] as const) {
  test(`HAProxy roundrobin with ${sendProxy}: zero errors, each backend a share, the bench's addresses in the backends' logs`, { skip: noHaproxy }, async (t) => {
    const backends = [await spawnServer(t, ['--proxy-protocol']), await spawnServer(t, ['--proxy-protocol'])];
    const haproxy = await startHaproxy(t, backends.map((b) => b.port), sendProxy);
    const connections = 8;
    const result = await bench(haproxy.port, connections);
    assert.equal(result.errorTotal, 0, JSON.stringify(result.errors));
    assert.ok(result.messages > 0);
    await until(() => backends.reduce((n, b) => n + served(b).clients.length, 0) >= connections, 10_000, 'the backends to log every bench connection closed');
    for (const [i, backend] of backends.entries()) {
      const { clients, opened } = served(backend);
      assert.ok(clients.length > 0, `backend ${i} served none of the bench's connections`);
      for (const { client, proxy } of clients) {
        assert.match(client, /^127\.0\.0\.1:\d+$/);
        assert.ok(opened.has(proxy), `proxy= ${proxy} is the peer the open line saw`);
        assert.ok(!opened.has(client), `${client} is one of HAProxy's own ports, not the bench's`);
        assert.notEqual(client, `127.0.0.1:${haproxy.port}`);
      }
    }
  });
}

test('HAProxy echo health check: a backend that stops echoing (--stall-after 0) is marked down; the bench runs on the other with zero errors', { skip: noHaproxy }, async (t) => {
  const healthy = await spawnServer(t, ['--proxy-protocol']);
  const stalled = await spawnServer(t, ['--proxy-protocol', '--stall-after', '0']);
  const haproxy = await startHaproxy(t, [healthy.port, stalled.port], 'send-proxy-v2');
  await until(() => haproxy.lines.some((line) => /echo1 is DOWN/.test(line)), 10_000, () => `haproxy to mark the stalled backend down (${haproxy.lines.join(' | ')})`);
  assert.ok(!haproxy.lines.some((line) => /echo0 is DOWN/.test(line)), 'the healthy backend stayed up');
  const stalledBefore = served(stalled).clients.length;
  const result = await bench(haproxy.port, 6);
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errors));
  await until(() => served(healthy).clients.length >= 6, 10_000, 'the healthy backend to log the bench connections closed');
  assert.equal(served(stalled).clients.length, stalledBefore, 'no bench connection went to the backend marked down');
});
