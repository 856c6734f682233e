// Fault flags and the control API, end to end through the built CLI.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { runCli, spawnServer } from '../helpers/cli.js';
import { connectTo, readAll } from '../helpers/echo.js';
import { within } from '../helpers/timeout.js';

async function call(url: string, method: string, body?: string): Promise<{ status: number; json: unknown }> {
  const response = await within(fetch(url, { method, ...(body === undefined ? {} : { body }) }), 10_000, `${method} ${url}`);
  return { status: response.status, json: await response.json() };
}

test('--control-port: the URL comes before the ready line; GET, PUT and DELETE /faults round trip; a bad body changes nothing', async (t) => {
  const server = await spawnServer(t, ['--control-port', '0', '--delay', '20']);
  const controlAt = server.lines.findIndex((line) => line.startsWith('tcpecho control on '));
  const readyAt = server.lines.findIndex((line) => line.startsWith('tcpecho listening on '));
  assert.ok(controlAt !== -1 && controlAt < readyAt, server.lines.join('\n'));
  const url = `${/(http:\/\/127\.0\.0\.1:\d+)$/.exec(server.lines[controlAt] ?? '')?.[1] ?? ''}/faults`;
  assert.deepEqual((await call(url, 'GET')).json, { delayMs: 20 });
  assert.deepEqual(await call(url, 'PUT', '{"closeAfter": 3}'), { status: 200, json: { closeAfter: 3 } });

  // In force at once: the next connection gets 3 bytes, then FIN.
  const socket = await connectTo(server.port);
  socket.on('error', () => {});
  const received = readAll(socket);
  socket.write('hello');
  assert.equal((await within(received, 10_000, 'prefix')).toString(), 'hel');
  socket.destroy();
  assert.match(await server.waitForLine(/ close #1 /), / faults=close /);

  for (const bad of ['not json', '{"delayMs": -5}', '{"colour": "red"}', '[1]']) {
    const { status, json } = await call(url, 'PUT', bad);
    assert.equal(status, 400, bad);
    assert.match((json as { error: string }).error, /\S/);
  }
  assert.deepEqual((await call(url, 'GET')).json, { closeAfter: 3 });
  assert.deepEqual(await call(url, 'DELETE'), { status: 200, json: {} });
  assert.equal((await call(url.replace('/faults', '/other'), 'GET')).status, 404);
});

test('--chunk 1:10: a 100-byte echo arrives one byte per segment, exact', async (t) => {
  const server = await spawnServer(t, ['--chunk', '1:10']);
  const socket = await connectTo(server.port);
  const reads: number[] = [];
  socket.on('data', (chunk: Buffer) => reads.push(chunk.length));
  const data = Buffer.from('x'.repeat(100));
  const started = performance.now();
  socket.end(data);
  await within(once(socket, 'end'), 20_000, 'echo');
  const elapsedMs = performance.now() - started;
  // 100 pieces 10 ms apart take 990 ms at least, however loaded the machine. Each piece leaves as
  // its own segment, but a reader the machine stalls finds several queued at once: the bounds
  // leave room for stalls of a few hundred ms, never for the echo in a few reads. (The pieces'
  // exact sizes are checked through the hex dump, which sees each write.)
  assert.ok(elapsedMs >= 950, `the echo took ${elapsedMs.toFixed(0)} ms`);
  assert.ok(reads.length >= 20, `${reads.length} reads`);
  assert.ok(reads.every((n) => n <= 40), reads.join(','));
  assert.equal(reads.reduce((a, b) => a + b, 0), 100);
});

test('fault values out of range or malformed: one line, exit 2', async () => {
  for (const args of [['--delay', '-1'], ['--refuse-rate', '2'], ['--fault-rate', 'half'], ['--chunk', 'abc'], ['--chunk', '0'], ['--bandwidth', '0'], ['--close-after', '1.5']]) {
    const result = await runCli(['server', '--port', '0', ...args]);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`\`${args[0] as string}\``));
  }
});
