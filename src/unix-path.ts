// Unix domain socket addresses as users write them (`/run/echo.sock`, `@name`) and as Node wants
// them, shared by the server, the client and the load generator.
import { UsageError } from './errors.js';

/**
 * The most bytes of a path or abstract name: `sun_path` holds 108, and Node 20 silently truncates
 * a longer path to them (measured: a 120-byte path bound a 108-byte file name). 107 leaves room
 * for the terminating NUL that portable code keeps.
 */
export const MAX_UNIX_PATH_BYTES = 107;

/** What a connection over a Unix socket reports as its peer: such a peer has no address (`nc -U` shows none). */
export const UNIX_PEER_ADDRESS = 'unix';

/** Whether `path` names a Linux abstract socket (`@name`): no file, gone when its listener closes. */
export function isAbstract(path: string): boolean {
  return path.startsWith('@');
}

/**
 * The path for Node's `listen({ path })` and `connect({ path })`: `@name` becomes `\0name`.
 * Node 20 pads an abstract name with NULs to the whole of `sun_path` (108 bytes), and the
 * kernel compares all of them: another Node process reaches it, a client that passes the name's
 * own length (socat's default, Python's `connect('\0name')`) gets ECONNREFUSED. socat reaches it
 * with `ABSTRACT-CONNECT:name,unix-tightsocklen=0`.
 */
export function nodeUnixPath(path: string): string {
  return isAbstract(path) ? `\0${path.slice(1)}` : path;
}

/** Node's form back to ours: `\0name` is `@name`. */
export function userUnixPath(nodePath: string): string {
  return nodePath.startsWith('\0') ? `@${nodePath.slice(1).replace(/\0+$/, '')}` : nodePath;
}

/** `unix:PATH`, how messages, the ready line and `url` name a Unix socket. */
export function unixUrl(path: string): string {
  return `unix:${path}`;
}

/** Checks a path or `@name` given as option `name`: a usage error when it is empty, has a NUL, or is too long. */
export function checkUnixPath(path: unknown, name: string): string {
  if (typeof path !== 'string' || path === '' || path === '@') {
    throw new UsageError(`Expected \`${name}\` to be a socket path or \`@NAME\`, got \`${String(path)}\``);
  }
  if (path.includes('\0')) throw new UsageError(`Expected \`${name}\` to have no NUL byte (an abstract name is written \`@NAME\`), got \`${JSON.stringify(path)}\``);
  const bytes = Buffer.byteLength(isAbstract(path) ? path.slice(1) : path);
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw new UsageError(`Expected \`${name}\` to be at most ${MAX_UNIX_PATH_BYTES} bytes (the kernel's limit for a socket address), got ${bytes}: \`${path}\``);
  }
  return path;
}
