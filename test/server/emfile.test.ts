// Descriptor exhaustion: a server under `ulimit -n 64` facing 300 clients stays up, keeps serving
// what it accepted, closes the excess (no hang), does not spin, and recovers.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { spawnServer } from '../helpers/cli.js';
import { connectTo, echoOf, readExactly } from '../helpers/echo.js';
import { cpuSeconds } from '../helpers/process.js';
import { within } from '../helpers/timeout.js';

for (const mode of ['event', 'fork'] as const) {
  test(`${mode} mode: 300 clients against ulimit -n 64: served or closed, never hung; no spin; recovers`, async (t) => {
    const server = await spawnServer(t, ['--mode', mode, '--quiet', ...(mode === 'fork' ? ['--max-children', '16'] : [])], { maxFds: 64 });
    const pid = server.child.pid as number;
    // A client served before the storm, to check it is still served after.
    const veteran = await connectTo(server.port);
    t.after(() => veteran.destroy());
    veteran.write('hello');
    await within(readExactly(veteran, 5), 10_000, 'the veteran served');
    const sockets: net.Socket[] = [];
    t.after(() => sockets.forEach((s) => s.destroy()));
    // Each client says hello; it is either echoed or closed: none may hang.
    const outcomes = await within(
      Promise.all(
        Array.from({ length: 300 }, () => {
          const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
          sockets.push(socket);
          return new Promise<'served' | 'closed'>((resolve) => {
            socket.on('error', () => resolve('closed'));
            socket.on('end', () => resolve('closed'));
            socket.on('close', () => resolve('closed'));
            socket.on('data', () => {
              resolve('served');
              // Fork mode: done, which frees the child for a client still waiting. Event mode: a
              // served client stays open, so the server's descriptors really run out (a client
              // that left at once could let all 300 through 64 descriptors one after another).
              if (mode === 'fork') socket.end();
            });
            socket.on('connect', () => socket.write('hi'));
          });
        }),
      ),
      30_000,
      'every client served or closed',
    );
    const served = outcomes.filter((o) => o === 'served').length;
    const closed = outcomes.length - served;
    t.diagnostic(`served ${served}, closed ${closed}`);
    assert.ok(served > 0, 'some clients were served');
    assert.ok(closed > 0, 'the excess was closed');
    assert.equal(server.child.exitCode, null, 'the server is still running');

    // The client accepted before the storm is still served.
    veteran.write('again');
    await within(readExactly(veteran, 5), 5000, 'the veteran still echoes');

    // Not spinning: idle for a second, the server uses almost no CPU.
    const before = cpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const used = cpuSeconds(pid) - before;
    assert.ok(used < 0.3, `server used ${used} s of CPU in 1 s while idle`);

    // Free the descriptors: new clients are served normally.
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < 5; i++) {
      const data = Buffer.from(`after ${i}`);
      assert.ok((await echoOf(server.port, data)).equals(data));
    }
    const fresh = await connectTo(server.port);
    fresh.destroy();
    assert.equal(server.child.exitCode, null);
    assert.doesNotMatch(server.lines.join('\n'), /Unhandled|at .*\(node:/);
    t.diagnostic(`server log: ${server.lines.filter((line) => / warning /.test(line)).slice(0, 3).join(' | ') || '(no warning)'}`);
  });
}
