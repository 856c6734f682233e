import type net from 'node:net';

/**
 * Half-closes `socket` (over TLS: close_notify, then FIN) and leaves its reading side open for the
 * echo still to come; the client's and the bench's way of saying "that was all".
 *
 * A TLS socket is ended on the next turn of the event loop, never at once. Node 20's TLS socket
 * loses every byte still to come when `end()` runs inside its own `'data'` callback, or in a
 * `process.nextTick` or promise continuation run at the end of one: no more application data
 * reaches the socket, only the peer's close_notify, and the echo looks cut short by the server.
 * The client's input can end exactly there: its last resume is made from the echo's `'data'`
 * callback, when the bytes it was waiting on are echoed. `test/client/half-close.test.ts` shows
 * the loss, and that this deferral avoids it.
 */
export function halfClose(socket: net.Socket): void {
  if ('encrypted' in socket) setImmediate(() => socket.end());
  else socket.end();
}
