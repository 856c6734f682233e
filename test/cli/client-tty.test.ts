// The interactive client, driven through a real pseudo-terminal (see helpers/pty.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { noPty as skip, spawnCliOnPty } from '../helpers/pty.js';
import { startTestServer } from '../helpers/server.js';
import { within } from '../helpers/timeout.js';

/** The client on a pseudo-terminal; `screen` accumulates what the terminal shows. */
function clientOnPty(t: TestContext, port: number, args: string[] = ['127.0.0.1', String(port)]) {
  const child = spawnCliOnPty(['client', ...args]);
  t.after(() => child.kill('SIGKILL'));
  let screen = '';
  const watchers = new Set<{ check: () => boolean; resolve: () => void }>();
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
    for (const watcher of watchers) {
      if (watcher.check()) {
        watchers.delete(watcher);
        watcher.resolve();
      }
    }
  });
  return {
    child,
    get screen() {
      return screen;
    },
    type(keys: string) {
      child.stdin.write(keys);
    },
    /** Resolves once the terminal shows `text` at least `times` times. */
    shows(text: string, times = 1): Promise<void> {
      const check = () => screen.split(text).length - 1 >= times;
      if (check()) return Promise.resolve();
      return within(new Promise<void>((resolve) => watchers.add({ check, resolve })), 10_000, `terminal to show ${JSON.stringify(text)} ×${times}; it shows ${JSON.stringify(screen)}`);
    },
    async exitCode(): Promise<number | null> {
      const [code] = (await within(once(child, 'exit'), 10_000, `client exit; terminal: ${JSON.stringify(screen)}`)) as [number | null];
      return code;
    },
  };
}

test('interactive: says where it is connected, echoes each typed line, Ctrl-D ends with exit 0', { skip }, async (t) => {
  const server = await startTestServer(t);
  let echoed = 0;
  server.on('disconnect', (info) => (echoed = info.bytesWritten));
  const pty = clientOnPty(t, server.address.port);
  await pty.shows(`Connected to 127.0.0.1:${server.address.port}`);
  pty.type('hello over a tty\n');
  // Once from the terminal's own echo of the keys, once from the server.
  await pty.shows('hello over a tty', 2);
  pty.type('second line\n');
  await pty.shows('second line', 2);
  pty.type('\x04');
  assert.equal(await pty.exitCode(), 0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(echoed, 'hello over a tty\nsecond line\n'.length);
});

test('interactive: Ctrl-C ends the session cleanly, exit 0', { skip }, async (t) => {
  const server = await startTestServer(t);
  const pty = clientOnPty(t, server.address.port);
  await pty.shows('Connected to');
  pty.type('ping\n');
  await pty.shows('ping', 2);
  pty.type('\x03');
  assert.equal(await pty.exitCode(), 0);
  assert.doesNotMatch(pty.screen, /Error|at /);
});

test('interactive: when the server closes, the client says so and exits', { skip }, async (t) => {
  // A server that echoes the first line, then closes.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => socket.end(chunk));
  });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), 5000, 'server listening');
  t.after(() => server.close());
  const pty = clientOnPty(t, (server.address() as net.AddressInfo).port);
  await pty.shows('Connected to');
  pty.type('only line\n');
  await pty.shows('The server closed the connection.');
  assert.equal(await pty.exitCode(), 0);
  assert.equal(pty.screen.split('only line').length - 1, 2);
});

test('interactive with -v and a lone port: status lines, and the byte counts at the end', { skip }, async (t) => {
  const server = await startTestServer(t);
  const port = server.address.port;
  const pty = clientOnPty(t, port, ['-v', String(port)]);
  await pty.shows(`Connected to 127.0.0.1:${port} from 127.0.0.1:`);
  await pty.shows('Type a line and press Enter');
  assert.equal(pty.screen.split('Connected to').length - 1, 1, 'one line names the connection');
  await pty.shows('Type a line');
  pty.type('abc\n');
  await pty.shows('abc', 2);
  pty.type('\x04');
  await pty.shows('Sent 4 bytes, received 4');
  assert.equal(await pty.exitCode(), 0);
});

test('interactive over TLS: lines echoed, Ctrl-D half-closes (close_notify, FIN) and the server sees the end', { skip }, async (t) => {
  const { testCertificates } = await import('../helpers/certs.js');
  const { startTlsEcho } = await import('../helpers/tls-echo.js');
  const certs = await testCertificates();
  let ended = false;
  const server = await startTlsEcho(t, certs.server, {}, (socket) => {
    socket.pipe(socket);
    socket.on('end', () => (ended = true));
  });
  const pty = clientOnPty(t, server.port, ['--tls', '--ca', certs.files.ca.cert, '127.0.0.1', String(server.port)]);
  await pty.shows(`Connected to 127.0.0.1:${server.port} (TLS).`);
  pty.type('secret line\n');
  await pty.shows('secret line', 2);
  pty.type('\x04');
  assert.equal(await pty.exitCode(), 0);
  assert.ok(ended, 'the server saw the end of the TLS stream');
});
