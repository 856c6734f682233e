// What `--udp` does to the option checks: the options that apply with it, its defaults, its one mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOptions } from '../../src/options/resolve.js';
import { parseCommandLine } from '../../src/options/command-line.js';

test('with udp, the defaults that differ: 1 s timeouts for client and bench, 30 s idle sources for the server', () => {
  assert.equal(resolveOptions('client', { udp: true }).timeoutMs, 1000);
  assert.equal(resolveOptions('bench', { udp: true }).timeoutMs, 1000);
  assert.equal(resolveOptions('server', { udp: true }).idleTimeoutMs, 30_000);
  assert.equal(resolveOptions('client', {}).timeoutMs, 10_000);
  assert.equal(resolveOptions('server', { udp: true, idleTimeoutMs: 0 }).idleTimeoutMs, 0);
});

test('--rate applies with --udp in ping-pong, and still only to connect mode without it', () => {
  assert.equal(parseCommandLine('bench', ['--udp', '--rate', '500'], 2).options.rate, 500);
  assert.throws(() => parseCommandLine('bench', ['--rate', '500'], 2), { code: 'TCPECHO_ERR_USAGE', message: /`--rate` applies to `--mode connect` only/ });
});

test('a TCP option at its default passed on with udp is no mistake; at another value it is', () => {
  const cli = parseCommandLine('bench', ['--udp'], 2).options;
  assert.doesNotThrow(() => resolveOptions('bench', cli));
  assert.throws(() => resolveOptions('bench', { udp: true, pipeline: 4 }), { code: 'TCPECHO_ERR_USAGE', message: /`pipeline` does not apply with `udp: true`/ });
  assert.throws(() => resolveOptions('server', { udp: true, mode: 'cluster' }), { code: 'TCPECHO_ERR_USAGE', message: /mode `cluster` does not apply/ });
  assert.throws(() => resolveOptions('client', { retries: 2 }), { code: 'TCPECHO_ERR_USAGE', message: /`retries` applies with `udp: true` only/ });
});

test('command-line-only TCP flags with --udp are usage errors too', () => {
  assert.throws(() => parseCommandLine('client', ['--udp', '--insecure'], 2), { code: 'TCPECHO_ERR_USAGE', message: /`--insecure` does not apply with `--udp`/ });
  assert.throws(() => parseCommandLine('bench', ['--udp', '--tls'], 2), { code: 'TCPECHO_ERR_USAGE', message: /`--tls` does not apply/ });
});
