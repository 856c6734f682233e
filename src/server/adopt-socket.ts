import net from 'node:net';

// Node reads an accepted socket the stream way: for every read it allocates a fresh 64 KiB buffer,
// wraps it, pushes it through the Readable machinery and frees it later. Node's `onread` option
// (documented for `net.connect` and `new net.Socket`) instead reads into a caller-owned buffer
// and calls back, but a server cannot ask for it for the sockets it accepts. So the connection is
// moved to a `new net.Socket({ handle, onread })` before its first read, the way Node's own
// child_process and cluster modules move handles between objects. Measured on ping-pong c=50
// 1 KiB against the C load generator: the echo server's capacity went from ~80k to ~100k
// messages/s (README, "Performance").
//
// Every Node internal this relies on (checked against Node 20's lib/net.js and
// lib/internal/stream_base_commons.js), and what happens if it changes:
// - `socket._handle`, the TCP handle (a TCPWrap). Read, checked, then set to null so that
//   destroying the old socket leaves the handle open. Missing or not a handle: nothing is touched,
//   the connection is served the stream way. If Node kept a second reference that destroy()
//   closes, the adopted socket would fail with EBADF at its first read: the echo suites fail.
// - `handle.readStop()`, returning 0 on success. Missing: stream way. Non-zero: stream way, the
//   old socket untouched.
// - `handle.reading`, a flag Node's JavaScript sets (tryReadStart, pause, onStreamRead). The new
//   socket starts reading only if it is false, hence cleared after readStop(). If Node stopped
//   consulting it, clearing it is harmless; if Node decided to start reading some other way, an adopted
//   socket might never read: every echo-suite test would time out.
// - `handle.useUserBuffer(buffer)`, which `new net.Socket({ onread })` calls to read into the
//   caller's buffer. Checked to exist; missing: stream way.
// - the `handle` option of `new net.Socket` (not documented; child_process uses it). Checked
//   after the fact: if the new socket did not take the handle, it is put back on the old socket,
//   which is then served the stream way.
// - `onread.buffer` as a function: called with no `this` after each read's callback, and where
//   it returns is where the next read goes. The callback receives that very buffer object (the
//   echo tells its buffers apart by identity: echo-connection.ts). If Node passed a copy or a
//   view instead, the echo would take the shared read buffer for a pooled one: the adopt-socket
//   tests' pool figures and the echo suites would fail.
// - `onread.callback`'s `this`: the socket (Node calls it as `stream[kBufferCb](...)`). The echo's
//   callback reads its state from `this`; were it unbound, every read would throw (a TypeError
//   on the first byte of every echo test).
// A Node upgrade is checked by the echo suites, which run every mode with adoption on and with
// it off (TCPECHO_ADOPT=0): the second run keeps the stream fallback tested.

/** The piece of Node's socket internals used here. */
interface SocketInternals {
  _handle: TcpHandle | null;
}

interface TcpHandle {
  /** Set by Node's JavaScript while the handle reads. */
  reading?: boolean;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

function isTcpHandle(value: unknown): value is TcpHandle {
  return typeof value === 'object' && value !== null &&
    typeof (value as TcpHandle).readStop === 'function' &&
    typeof (value as TcpHandle).useUserBuffer === 'function';
}

/**
 * Moves the connection of `socket` (accepted, or received over IPC, and not read from yet) to a new
 * socket that reads through `onread`, and returns it; `socket` is left an empty shell and
 * destroyed, which also takes it off its server's connection count. Returns undefined, having
 * touched nothing, when that cannot be done safely: something was read already, or Node's
 * internals are not what this expects.
 */
export function adoptWithOnread(socket: net.Socket, onread: net.OnReadOpts, allowHalfOpen: boolean): net.Socket | undefined {
  const internals = socket as unknown as SocketInternals;
  const handle = internals._handle;
  if (!isTcpHandle(handle) || socket.destroyed || socket.bytesRead !== 0 || socket.readableLength !== 0) return undefined;
  if (handle.reading === true) {
    // Sockets created by a server without pauseOnConnect, or received over IPC, start reading at
    // once; nothing can have been read yet (reads happen in the poll phase, after the code that
    // handed us the socket), so stopping loses nothing.
    if (handle.readStop() !== 0) return undefined;
    handle.reading = false;
  }
  internals._handle = null;
  const options = { handle, onread, allowHalfOpen, readable: true, writable: true };
  const adopted = new net.Socket(options as net.SocketConstructorOpts);
  if ((adopted as unknown as SocketInternals)._handle !== handle) {
    // The `handle` option was ignored: the connection stays with the old socket, not reading
    // (the stream way starts reading again on resume()).
    internals._handle = handle;
    adopted.destroy();
    return undefined;
  }
  socket.destroy();
  return adopted;
}
