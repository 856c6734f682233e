import { chmod, lstat, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { AddressInUseError, ListenError, PermissionDeniedError, systemCode } from '../errors.js';
import { isAbstract, nodeUnixPath, unixUrl } from '../unix-path.js';

/** How long the check of an existing socket file waits for an answer before taking it as live. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Listens on a Unix socket: `path` is a file path or `@name` (a Linux abstract name). A socket
 * file nobody listens on (a server that was SIGKILLed leaves one) is removed and replaced; one
 * that another server answers on is `AddressInUseError`; a path that is anything but a socket is
 * never touched (`ListenError`). `mode`, when given, is set on the socket file once it exists.
 *
 * The socket file is removed when the listener closes: libuv unlinks the path a pipe was bound
 * to when that handle closes (`uv__pipe_close`). Processes that were sent the listening handle
 * (cluster workers) did not bind it, and closing their copy leaves the file alone.
 */
export async function listenUnix(server: net.Server, path: string, backlog: number, mode: number | undefined): Promise<void> {
  const where = unixUrl(path);
  try {
    await bind(server, nodeUnixPath(path), backlog);
  } catch (err) {
    // An abstract name in use is always live: it disappears with its last socket.
    if (systemCode(err) !== 'EADDRINUSE' || isAbstract(path)) throw unixListenError(err as Error, path);
    await removeIfStale(path, where);
    try {
      await bind(server, nodeUnixPath(path), backlog);
    } catch (again) {
      throw unixListenError(again as Error, path);
    }
  }
  if (mode === undefined || isAbstract(path)) return;
  try {
    await chmod(path, mode);
  } catch (err) {
    throw new ListenError(`Cannot set the permissions of ${where} to ${mode.toString(8).padStart(4, '0')}: ${systemCode(err) ?? (err as Error).message}`, { cause: err });
  }
}

function bind(server: net.Server, path: string, backlog: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ path, backlog });
  });
}

/**
 * The path was in use: removes it if it is a socket file nobody answers on (connect refused),
 * and otherwise rejects saying why it stays.
 */
async function removeIfStale(path: string, where: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    // Gone since the bind failed: the second bind will tell.
    if (systemCode(err) === 'ENOENT') return;
    throw unixListenError(err as Error, path);
  }
  if (!stats.isSocket()) throw new ListenError(`Cannot listen on ${where}: the path exists and is not a socket (left as it is)`);
  const probe = await probeSocket(path);
  if (probe === 'live') throw new AddressInUseError(`Cannot listen on ${where}: another server is listening on it (EADDRINUSE)`);
  if (probe !== 'stale') throw new ListenError(`Cannot listen on ${where}: a socket file is there and cannot be checked (${probe}); left as it is`);
  try {
    await unlink(path);
  } catch (err) {
    if (systemCode(err) !== 'ENOENT') throw unixListenError(err as Error, path);
  }
}

/**
 * Connects to an existing socket file: `stale` when refused (nobody listens: the kernel says so
 * at once), `live` when it connects, when its accept queue is full (EAGAIN) or when it does not
 * answer within PROBE_TIMEOUT_MS; otherwise the error code (EACCES: not ours to check).
 */
function probeSocket(path: string): Promise<'live' | 'stale' | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    const done = (result: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('live'), PROBE_TIMEOUT_MS).unref();
    socket.on('error', (err) => {
      const code = systemCode(err);
      done(code === 'ECONNREFUSED' ? 'stale' : code === 'EAGAIN' ? 'live' : (code ?? err.message));
    });
    socket.once('connect', () => done('live'));
  });
}

function unixListenError(err: Error, path: string): Error {
  const where = unixUrl(path);
  switch (systemCode(err)) {
    case 'EADDRINUSE':
      return new AddressInUseError(`Cannot listen on ${where}: address already in use (EADDRINUSE)`, { cause: err });
    case 'EACCES':
      // libuv reports a bind's ENOENT as EACCES (as Windows would): say which it was.
      if (!isAbstract(path) && !existsSync(dirname(path))) return new ListenError(`Cannot listen on ${where}: no such directory (ENOENT)`, { cause: err });
      return new PermissionDeniedError(`Cannot listen on ${where}: permission denied (EACCES)`, { cause: err });
    case 'ENOENT':
      return new ListenError(`Cannot listen on ${where}: no such directory (ENOENT)`, { cause: err });
    default:
      return new ListenError(`Cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}
