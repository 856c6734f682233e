import net from 'node:net';

// Node reads an accepted socket the stream way: for every read it allocates a fresh 64 KiB buffer,
// wraps it, pushes it through the Readable machinery and frees it later. Node's `onread` option
// (documented for `net.connect` and `new net.Socket`) instead reads into one caller-owned buffer
// and calls back, but a server cannot ask for it for the sockets it accepts. So the connection is
// moved to a `new net.Socket({ handle, onread })` before its first read. Measured on ping-pong
// c=50 1 KiB against the C load generator: the echo server's capacity went from ~80k to ~100k
// messages/s (README, "Performance").
//
// This touches one private field, `socket._handle`, the way Node's own child_process and cluster
// modules move sockets between objects. If it ever looks different, nothing is touched and the
// connection is served the stream way.

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
  socket.destroy();
  return adopted;
}
