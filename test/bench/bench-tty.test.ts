// The live progress line: drawn on stderr when it is a terminal (a real pseudo-terminal through
// helpers/pty.ts), never when it is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collect, runCli } from '../helpers/cli.js';
import { noPty as skip, spawnCliOnPty } from '../helpers/pty.js';
import { startTestServer } from '../helpers/server.js';

test('on a terminal, bench redraws a progress line on stderr about once a second', { skip }, async (t) => {
  const server = await startTestServer(t);
  const child = spawnCliOnPty(['bench', '127.0.0.1', String(server.address.port), '-c', '2', '-d', '2.5', '--warmup', '0']);
  const result = await collect(child, null, 20_000, 'bench on a pty');
  assert.equal(result.code, 0, result.stdout.toString());
  const screen = result.stdout.toString();
  const redraws = screen.match(/\r\s+\d+\.\d s\s+[\d,]+ messages\s+[\d,]+ msg\/s\s+errors 0/g) ?? [];
  assert.ok(redraws.length >= 2, `progress lines: ${JSON.stringify(screen.slice(0, 400))}`);
  assert.match(screen, /msg\/s\)/, 'the report follows');
});

test('on a terminal, a --threads run draws one progress line for all its threads, from the start of counting', { skip }, async (t) => {
  const server = await startTestServer(t);
  const child = spawnCliOnPty(['bench', '127.0.0.1', String(server.address.port), '-c', '4', '--threads', '2', '-d', '2.5', '--warmup', '0']);
  const result = await collect(child, null, 20_000, 'threaded bench on a pty');
  assert.equal(result.code, 0, result.stdout.toString());
  const screen = result.stdout.toString();
  const redraws = [...screen.matchAll(/\r\s+(\d+\.\d) s\s+([\d,]+) messages\s+[\d,]+ msg\/s\s+errors 0/g)];
  assert.ok(redraws.length >= 2, `progress lines: ${JSON.stringify(screen.slice(0, 400))}`);
  // No empty line drawn before the threads have begun counting.
  for (const [, seconds, messages] of redraws) assert.ok(Number(seconds) > 0 && messages !== '0', `an empty progress line: ${seconds} s, ${messages}`);
  assert.match(screen, /4 connection\(s\)/, 'the report counts the connections of both threads');
});

test('without a terminal, stderr stays empty', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['bench', '127.0.0.1', String(server.address.port), '-c', '2', '-d', '1.2', '--warmup', '0']);
  assert.equal(result.code, 0);
  assert.equal(result.stderr, '');
});
