// The entry of one fork-mode child: it takes over exactly one client connection from the parent,
// echoes it until the client is done, reports, and exits. Kept small on purpose: every import here
// is paid for on every child start.
import net from 'node:net';
import { echoConnection, type EchoResult } from './echo-connection.js';
import type { ClosedMessage, ReadyMessage } from './fork-protocol.js';

// The parent decides when children stop. A Ctrl-C in a terminal reaches the whole process group,
// and the parent lets connections drain before it ends its children.
process.on('SIGINT', () => {});
const idleTimeoutMs = Number(process.argv[2] ?? 0);
// Exit with the parent, even when it was SIGKILLed: the IPC channel closing is the one sign of it.
process.on('disconnect', () => process.exit(0));
process.on('message', childOnMessage);
warmUp(() => send({ type: 'ready' } satisfies ReadyMessage));

/**
 * Runs the echo path once, over loopback to ourselves, before saying we are ready. A child serves
 * one client, so without this every client's first bytes would pay for compiling that path
 * (measured: ~1 ms of the first echo). If loopback is not usable, we are ready all the same.
 */
function warmUp(ready: () => void): void {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => echoConnection(socket, () => server.close()));
  server.on('error', ready);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => {
      server.close();
      ready();
    });
    client.once('data', () => {
      client.end();
      client.resume();
    });
    client.once('end', () => {
      client.destroy();
      ready();
    });
    client.write('w');
  });
}

function childOnMessage(message: unknown, handle: unknown): void {
  if (!isSocketMessage(message) || handle === undefined) return;
  // One client per process, as in the classic design.
  process.off('message', childOnMessage);
  const socket = handle as net.Socket;
  // A socket received over IPC is created with allowHalfOpen false: set it before any I/O so that
  // the client's FIN does not end our side while echoes are still queued.
  socket.allowHalfOpen = true;
  echoConnection(socket, childOnEchoDone, idleTimeoutMs);
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

function isSocketMessage(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === 'socket';
}
