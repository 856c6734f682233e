// The kernel's TCP table, read to learn whether a waiting client has gone without reading it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { readTcpTable, tcpTableKey, TCP_CLOSE_WAIT, TCP_ESTABLISHED } from '../../src/server/tcp-table.js';
import { connectTo } from '../helpers/echo.js';
import { until, within } from '../helpers/timeout.js';

const noProc = !existsSync('/proc/net/tcp') && 'no /proc/net/tcp here';

/** A listener that holds every accepted socket unread, as the fork parent does. */
async function holdingServer(t: TestContext, host: string | undefined): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
  });
  server.listen(host === undefined ? { port: 0 } : { port: 0, host });
  await within(new Promise((resolve) => server.once('listening', resolve)), 5000, 'listening');
  t.after(() => {
    accepted.forEach((s) => s.destroy());
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

function keyOf(socket: net.Socket): string {
  const key = tcpTableKey(socket.localAddress as string, socket.localPort as number, socket.remoteAddress as string, socket.remotePort as number);
  assert.ok(key !== undefined);
  return key;
}

for (const [listen, client] of [['127.0.0.1', '127.0.0.1'], ['::1', '::1'], [undefined, '127.0.0.1']] as const) {
  test(`listening on ${listen ?? 'every interface'}, a ${client} client: established, then CLOSE_WAIT after its FIN, absent after its reset`, { skip: noProc }, async (t) => {
    const { port, accepted } = await holdingServer(t, listen);
    const quiet = await connectTo(port, client);
    const finOnly = await connectTo(port, client);
    const withData = await connectTo(port, client);
    const rude = await connectTo(port, client);
    t.after(() => [quiet, finOnly, withData, rude].forEach((s) => s.destroy()));
    rude.on('error', () => {});
    await until(() => accepted.length === 4, 5000, 'four accepted');
    const ours = (peer: net.Socket): net.Socket => accepted.find((s) => s.remotePort === peer.localPort) as net.Socket;
    const keys = new Map([quiet, finOnly, withData, rude].map((peer) => [peer, keyOf(ours(peer))]));
    finOnly.end();
    withData.end('hello');
    rude.resetAndDestroy();
    const wanted = new Set(keys.values());
    let table = await readTcpTable(wanted);
    await until(async () => {
      table = await readTcpTable(wanted);
      return table?.get(keys.get(finOnly) as string)?.state === TCP_CLOSE_WAIT &&
        table.get(keys.get(withData) as string)?.state === TCP_CLOSE_WAIT &&
        !table.has(keys.get(rude) as string);
    }, 5000, () => `the table to show the FINs and the reset: ${JSON.stringify([...(table ?? new Map())])}`);
    assert.deepEqual(table?.get(keys.get(quiet) as string), { state: TCP_ESTABLISHED, rxQueue: 0 });
    // The unread FIN counts as one byte of the receive queue; the data before it as the rest.
    assert.equal(table?.get(keys.get(finOnly) as string)?.rxQueue, 1);
    assert.equal(table?.get(keys.get(withData) as string)?.rxQueue, 6);
  });
}
