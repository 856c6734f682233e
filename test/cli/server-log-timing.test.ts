// When the server's log lines go out, through the built CLI: a line made within the coalescing
// window of the last write waits for the window (TCP and UDP servers alike), and with --hexdump
// no line waits, so a connection's open line comes before the dump of its first bytes.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { test, type TestContext } from 'node:test';
import { LOG_COALESCE_MS } from '../../src/cli/log-sink.js';
import { spawnServer, type ServerProcess } from '../helpers/cli.js';
import { connectTo } from '../helpers/echo.js';
import { udpSocket } from '../helpers/udp.js';

/** A quiet log: its last write this long ago, past any coalescing window. */
const QUIET_MS = 5 * LOG_COALESCE_MS;
/** The second line must be made this soon after the first for the attempt to tell anything. */
const SOON_MS = LOG_COALESCE_MS - 5;

const stampOf = (line: string): number => Date.parse(line.split(' ')[0] as string);

/**
 * `first(k)` makes a log line (it resolves with a pattern for it), then, as soon as that line has
 * arrived, `second(k)` makes another. Returns how long after the first line was made the second
 * arrived, from an attempt where the second was made within SOON_MS of the first (a loaded
 * machine may be slower; attempt `k` uses its own connections or addresses).
 */
async function secondLineDelay(server: ServerProcess, first: (k: number) => Promise<RegExp>, second: (k: number) => Promise<RegExp>): Promise<number> {
  const made: number[] = [];
  for (let k = 1; k <= 10; k++) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const firstLine = await server.waitForLine(await first(k));
    const pattern = await second(k);
    const secondLine = await server.waitForLine(pattern);
    const arrivedAt = Date.now();
    made.push(stampOf(secondLine) - stampOf(firstLine));
    if (stampOf(secondLine) - stampOf(firstLine) < SOON_MS) return arrivedAt - stampOf(firstLine);
  }
  throw new Error(`no two log lines made within ${SOON_MS} ms of each other in 10 attempts (${made.join(', ')} ms apart)`);
}

function keep(t: TestContext, socket: net.Socket): net.Socket {
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  return socket;
}

test(`TCP server: a log line made within ${LOG_COALESCE_MS} ms of the last write waits for the window`, async (t) => {
  const server = await spawnServer(t);
  let id = 0;
  const open = async (): Promise<RegExp> => {
    keep(t, await connectTo(server.port));
    id++;
    return new RegExp(` open #${id} `);
  };
  const delay = await secondLineDelay(server, open, open);
  assert.ok(delay >= LOG_COALESCE_MS - 1, `the second open line arrived ${delay} ms after the first was made`);
});

test(`UDP server: a source line made within ${LOG_COALESCE_MS} ms of the last write waits for the window`, async (t) => {
  const server = await spawnServer(t, ['--udp']);
  const source = (n: number) => async (k: number): Promise<RegExp> => {
    // Sources are addresses: each attempt's two are new ones on lo.
    const address = `127.0.${k}.${n}`;
    (await udpSocket(t, address)).send('x', server.port, '127.0.0.1');
    return new RegExp(` source ${address.replaceAll('.', '\\.')}:\\d+ first seen$`);
  };
  const delay = await secondLineDelay(server, source(1), source(2));
  assert.ok(delay >= LOG_COALESCE_MS - 1, `the second source line arrived ${delay} ms after the first was made`);
});

test('with --hexdump no line waits: a connection opened right after another has its open line before the dump of its first bytes', async (t) => {
  const server = await spawnServer(t, ['--hexdump']);
  for (let k = 1; k <= 3; k++) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    keep(t, await connectTo(server.port));
    await server.waitForLine(new RegExp(` open #${2 * k - 1} `));
    // Within the window of that line's write: its open line must not be held behind the dump.
    keep(t, await connectTo(server.port)).write('hello');
    const id = 2 * k;
    await server.waitForLine(new RegExp(`^#${id} < 5 bytes$`));
    const openAt = server.lines.findIndex((line) => new RegExp(` open #${id} `).test(line));
    const dumpAt = server.lines.indexOf(`#${id} < 5 bytes`);
    assert.ok(openAt !== -1 && openAt < dumpAt, `open #${id} before its dump:\n${server.lines.join('\n')}`);
  }
});
