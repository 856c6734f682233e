// The entry of one fork-mode child: it takes over exactly one client connection from the parent,
// echoes it until the client is done, reports, and exits. Kept small on purpose: every import here
// is paid for on every child start.
import net from 'node:net';
import { echoConnection, type EchoResult } from './echo-connection.js';
import type { ClosedMessage, ReadyMessage, WarmUpMessage } from './fork-protocol.js';

/** The warm-up gives up after this long and the child is ready all the same. */
const WARM_UP_LIMIT_MS = 2000;

/** The warm-up's loopback peer, waiting for its socket to come back from the parent. */
let warmUpPeer: net.Socket | undefined;

// The parent decides when children stop. A Ctrl-C in a terminal reaches the whole process group,
// and the parent lets connections drain before it ends its children.
process.on('SIGINT', () => {});
const idleTimeoutMs = Number(process.argv[2] ?? 0);
// Exit with the parent, even when it was SIGKILLed: the IPC channel closing is the one sign of it.
process.on('disconnect', () => process.exit(0));
process.on('message', childOnMessage);
warmUp(() => send({ type: 'ready' } satisfies ReadyMessage));

/**
 * Runs, once, everything a client's connection will run before saying we are ready: a loopback
 * connection to ourselves whose socket goes to the parent and straight back over IPC (the parent
 * never reads it), then one echo on it. A child serves one client, so without this every client's
 * first bytes would pay for compiling those paths: measured here, ~3.4 ms for a first socket
 * received over IPC, ~0.7 ms once the path has run. If anything fails we are ready all the same.
 */
function warmUp(ready: () => void): void {
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(limit);
    warmUpPeer?.destroy();
    warmUpPeer = undefined;
    server.close();
    ready();
  };
  const limit = setTimeout(finish, WARM_UP_LIMIT_MS);
  const server = net.createServer({ allowHalfOpen: true }, (peer) => {
    // The client's side of the warm-up: it writes once its socket is back (see childOnMessage).
    warmUpPeer = peer;
    peer.on('error', finish);
    peer.once('data', () => peer.end());
    peer.once('end', finish);
  });
  server.on('error', finish);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as net.AddressInfo;
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', finish);
    socket.once('connect', () => {
      if (process.send === undefined) return finish();
      process.send({ type: 'warm-up' } satisfies WarmUpMessage, socket, { keepOpen: false }, (err) => err && finish());
    });
  });
}

function childOnMessage(message: unknown, handle: unknown): void {
  if (!(handle instanceof net.Socket)) return;
  if (isMessage(message, 'warm-up')) {
    echoConnection(handle, () => {});
    // Only now may the peer write: until the socket is back here, the parent holds it.
    warmUpPeer?.write('w');
    return;
  }
  if (!isMessage(message, 'socket')) return;
  // One client per process, as in the classic design.
  process.off('message', childOnMessage);
  echoConnection(handle, childOnEchoDone, idleTimeoutMs);
}

function childOnEchoDone(result: EchoResult): void {
  send({ type: 'closed', result } satisfies ClosedMessage, () => process.exit(0));
}

function send(message: object, callback?: () => void): void {
  if (process.send === undefined || !process.connected) {
    process.exit(0);
  }
  process.send(message, undefined, {}, () => callback?.());
}

function isMessage(value: unknown, type: string): boolean {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === type;
}
