// tcpecho behind a real HAProxy (Debian's `haproxy`, started here): two `--proxy-protocol`
// backends behind `balance roundrobin`, PROXY v2 and then v1, driven by `tcpecho bench`. Checks:
// zero errors with every byte verified, each backend served a share, and the backends' close lines
// carry the bench's address and ports (not HAProxy's, which their open lines show). Then the echo
// health check (`tcp-check send PING` / `expect string PING`): a backend that stops echoing is
// marked down, and the bench runs on the other alone with zero errors. A backend killed in the
// middle of a bench: its connections fail by kind, the survivor's finish clean, the totals add up.
// Draining: SIGTERM makes a backend's /readyz fail, HAProxy's readiness check marks it down, its
// open connection finishes, and new clients go to the other.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { spawnServer } from '../helpers/cli.js';
import { once } from 'node:events';
import net from 'node:net';
import { assertSpreadWithClientAddresses, bench, served, startBalancer, startBench } from '../helpers/balancer.js';
import { freePort } from '../helpers/server.js';
import { endWithEcho } from '../helpers/echo.js';
import { until, within } from '../helpers/timeout.js';

const noHaproxy = spawnSync('haproxy', ['-v']).status !== 0 && 'haproxy is not installed (Debian: apt-get install haproxy)';

/**
 * The configuration the README shows, with the ports of this run. The health check is the echo
 * (`tcp-check send PING`), or with `readyz` (each backend's metrics port) `GET /readyz`, which
 * fails from the moment a backend starts draining.
 */
function haproxyConfig(frontPort: number, backends: number[], sendProxy: 'send-proxy' | 'send-proxy-v2', readyz?: number[]): string {
  const check = readyz === undefined
    ? ['  option tcp-check', '  tcp-check send PING\\r\\n', '  tcp-check expect string PING']
    : ['  option httpchk', '  http-check send meth GET uri /readyz', '  http-check expect status 200'];
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
    ...check,
    ...backends.map((port, i) => `  server echo${i} 127.0.0.1:${port} ${sendProxy} check inter 200ms fall 2 rise 1${readyz === undefined ? '' : ` port ${readyz[i] as number}`}`),
    '',
  ].join('\n');
}

interface Haproxy {
  port: number;
  lines: string[];
}

async function startHaproxy(t: TestContext, backends: number[], sendProxy: 'send-proxy' | 'send-proxy-v2', readyz?: number[]): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcpecho-haproxy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, backends, sendProxy, readyz));
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
    await assertSpreadWithClientAddresses(backends, connections, 'HAProxy', haproxy.port);
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

test('HAProxy, one backend killed (SIGKILL) in the middle of a bench: its connections fail by kind, the survivor\'s finish with zero errors', { skip: noHaproxy }, async (t) => {
  const survivor = await spawnServer(t, ['--proxy-protocol']);
  const doomed = await spawnServer(t, ['--proxy-protocol']);
  const haproxy = await startHaproxy(t, [survivor.port, doomed.port], 'send-proxy-v2');
  const connections = 8;
  const run = startBench(haproxy.port, connections, 3);
  // Both backends serving, then one gone at once: no drain, no FIN from it.
  await until(() => doomed.lines.filter((line) => / open #/.test(line)).length >= connections / 2 - 1, 10_000, 'the doomed backend to have its share');
  await new Promise((resolve) => setTimeout(resolve, 500));
  doomed.child.kill('SIGKILL');
  const done = await run.result;
  const result = JSON.parse(done.stdout.toString()) as { messages: number; errorTotal: number; errors: Record<string, number>; errorSamples: string[] };
  assert.equal(done.code, 1, 'errors make the exit code 1');
  const onDoomed = doomed.lines.filter((line) => / open #/.test(line)).length;
  // Each failed connection is one error, of a kind the bench names; it fails no other connection.
  assert.ok(result.errorTotal >= 1 && result.errorTotal <= onDoomed, `${result.errorTotal} errors, ${onDoomed} connections on the killed backend: ${JSON.stringify(result.errors)}`);
  assert.equal(Object.values(result.errors).reduce((a, b) => a + b, 0), result.errorTotal, 'the kinds add up to the total');
  for (const kind of ['mismatch', 'connect', 'timeout', 'error']) assert.equal(result.errors[kind], 0, `no ${kind}: ${result.errorSamples.join(' | ')}`);
  assert.ok(result.messages > 0);
  // The survivor's bench connections all ended as a clean half-close, every byte echoed.
  await until(() => served(survivor).clients.length >= connections - onDoomed, 10_000, 'the survivor to log its connections closed');
  // Not HAProxy's own health checks (PROXY v2 LOCAL: served with its own address, client = proxy).
  const closes = survivor.lines.filter((line) => {
    const close = / close #\d+ (\S+) proxy=(\S+) bytes=(\d+) /.exec(line);
    return close !== null && close[1] !== close[2] && close[3] !== '0';
  });
  assert.ok(closes.length >= connections - onDoomed, closes.join('\n'));
  for (const line of closes) assert.match(line, /reason=eof$/);
});

test('HAProxy draining: SIGTERM makes the backend\'s /readyz 503 at once, HAProxy marks it down, its open connection finishes, new clients go to the other', { skip: noHaproxy }, async (t) => {
  const metricsUrl = async (backend: Awaited<ReturnType<typeof spawnServer>>): Promise<string> =>
    /(http:\/\/127\.0\.0\.1:\d+)\/metrics$/.exec(await backend.waitForLine(/^tcpecho metrics on /))?.[1] as string;
  const args = ['--proxy-protocol', '--metrics-port', '0', '--drain-timeout', '20'];
  const staying = await spawnServer(t, args);
  const draining = await spawnServer(t, args);
  const [stayingUrl, drainingUrl] = [await metricsUrl(staying), await metricsUrl(draining)];
  const readyzPort = (url: string): number => Number(/:(\d+)$/.exec(url)?.[1]);
  const haproxy = await startHaproxy(t, [staying.port, draining.port], 'send-proxy-v2', [readyzPort(stayingUrl), readyzPort(drainingUrl)]);
  // Four connections through HAProxy: roundrobin gives each backend some (its own probes and
  // startBalancer's readiness probe take turns too, so not exactly two each).
  const clients = Array.from({ length: 4 }, () => net.connect({ port: haproxy.port, host: '127.0.0.1', allowHalfOpen: true }));
  t.after(() => clients.forEach((c) => c.destroy()));
  await Promise.all(clients.map((c) => within(once(c, 'connect'), 5000, 'connect through HAProxy')));
  for (const c of clients) c.write('before the drain\n');
  const stillOpen = (backend: typeof staying): number => backend.lines.filter((line) => / open #/.test(line)).length - backend.lines.filter((line) => / close #/.test(line)).length;
  await until(() => stillOpen(draining) >= 1 && stillOpen(staying) >= 1 && stillOpen(draining) + stillOpen(staying) === clients.length, 10_000, 'the clients open on both backends');

  draining.child.kill('SIGTERM');
  await draining.waitForLine(/^received SIGTERM: no longer accepting; draining [1-3] connection/);
  assert.equal((await fetch(`${drainingUrl}/readyz`)).status, 503, 'not ready from the moment the drain starts');
  assert.equal((await fetch(`${stayingUrl}/readyz`)).status, 200);
  await until(() => haproxy.lines.some((line) => /echo1 is DOWN/.test(line)), 10_000, () => `haproxy to mark the draining backend down (${haproxy.lines.join(' | ')})`);

  // New clients: all on the other backend, zero errors.
  const before = served(draining).clients.length;
  const result = await bench(haproxy.port, 4, { durationS: 1 });
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errors));
  assert.equal(served(draining).clients.length, before, 'no new client went to the draining backend');

  // The connections open before the drain still echo, and finish clean; the draining backend then exits 0.
  const payload = Buffer.from('after the drain\n');
  const echoes = await Promise.all(clients.map((c) => endWithEcho(c, payload, 10_000, 'the echo after the drain')));
  for (const echo of echoes) assert.equal(echo.toString(), `before the drain\n${payload.toString()}`);
  const [code] = (await within(once(draining.child, 'exit'), 15_000, 'the draining backend to exit')) as [number | null];
  assert.equal(code, 0);
  assert.ok(draining.lines.some((line) => / close #\d+ .*reason=eof$/.test(line)), draining.lines.join('\n'));
});

test("the README's HAProxy backend is the one these tests run (ports aside)", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const block = /^backend tcpecho .*\n((?: {2}.*\n)+)/m.exec(readme)?.[1];
  assert.ok(block !== undefined, 'the README has the backend snippet');
  const ours = haproxyConfig(7000, [7001, 7002], 'send-proxy-v2').split(/^backend tcpecho\n/m)[1] as string;
  const normalize = (text: string): string[] => text.split('\n').map((line) => line.replace(/\s+#.*$/, '').trimEnd()).filter((line) => line !== '');
  assert.deepEqual(normalize(block), normalize(ours));
});
