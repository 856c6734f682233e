// tcpecho behind a real nginx `stream` proxy (Debian's `nginx` with `libnginx-mod-stream`, started
// here): `proxy_protocol on` (v1) and `proxy_half_close on` in front of two `--proxy-protocol`
// backends (nginx's default round-robin), driven by `tcpecho bench`: zero errors with every byte
// verified, each backend a share, the bench's ports (not nginx's) in the backends' close lines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { spawnServer } from '../helpers/cli.js';
import { assertSpreadWithClientAddresses, bench, startBalancer } from '../helpers/balancer.js';
import { freePort } from '../helpers/server.js';

const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
const noNginx = spawnSync('nginx', ['-v']).status !== 0
  ? 'nginx is not installed (Debian: apt-get install nginx libnginx-mod-stream)'
  : !existsSync(STREAM_MODULE) && 'nginx has no stream module (Debian: apt-get install libnginx-mod-stream)';

/** The configuration the README shows, with the ports of this run. */
function nginxConfig(dir: string, frontPort: number, backends: number[]): string {
  return [
    `load_module ${STREAM_MODULE};`,
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    'error_log stderr notice;',
    'events { worker_connections 1024; }',
    'stream {',
    '  upstream tcpecho {',
    ...backends.map((port) => `    server 127.0.0.1:${port};`),
    '  }',
    '  server {',
    `    listen 127.0.0.1:${frontPort};`,
    '    proxy_pass tcpecho;',
    '    proxy_protocol on;',
    '    proxy_half_close on;',
    '  }',
    '}',
    '',
  ].join('\n');
}

test('nginx stream with proxy_protocol on: zero errors, each backend a share, the bench\'s addresses in the backends\' logs', { skip: noNginx }, async (t) => {
  const backends = [await spawnServer(t, ['--proxy-protocol']), await spawnServer(t, ['--proxy-protocol'])];
  const dir = mkdtempSync(path.join(tmpdir(), 'tcpecho-nginx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, nginxConfig(dir, port, backends.map((b) => b.port)));
  await startBalancer(t, 'nginx', ['-p', dir, '-e', 'stderr', '-c', file], port);
  // The probe itself reached a backend, without a header: nginx sent one; it is a short connection.
  const connections = 8;
  const result = await bench(port, connections);
  assert.equal(result.errorTotal, 0, JSON.stringify(result.errors));
  assert.ok(result.messages > 0);
  await assertSpreadWithClientAddresses(backends, connections, 'nginx', port);
});
