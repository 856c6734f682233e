import { ConnectError, ConnectTimeoutError, systemCode } from './errors.js';

// The words for a failed connect, shared by the client (connectEcho) and the load generator, so
// that `tcpecho client` and `tcpecho bench` say the same thing about the same failure.

/** `err`, a connect attempt's socket error, as a ConnectError; `where` is formatAddress(host, port); `family` the one asked for. */
export function connectError(err: Error, host: string, where: string, family?: 4 | 6): ConnectError {
  switch (systemCode(err)) {
    case 'ECONNREFUSED':
      return new ConnectError(`Connection refused by ${where} (is the server running?)`, { cause: err });
    case 'ENOTFOUND':
      if (family !== undefined) return new ConnectError(`Unknown host \`${host}\`, or it has no IPv${family} address`, { cause: err });
      return new ConnectError(`Unknown host \`${host}\``, { cause: err });
    case 'EAI_AGAIN':
      return new ConnectError(`Cannot resolve \`${host}\` right now (EAI_AGAIN)`, { cause: err });
    case 'ECONNRESET':
      return new ConnectError(`Connection to ${where} was reset while connecting`, { cause: err });
    // Unix sockets: no file at the path, or not allowed to write to it.
    case 'ENOENT':
      return new ConnectError(`Cannot connect to ${where}: no such socket (is the server running?)`, { cause: err });
    case 'EACCES':
      return new ConnectError(`Cannot connect to ${where}: permission denied (EACCES)`, { cause: err });
    default:
      return new ConnectError(`Cannot connect to ${where}: ${err.message}`, { cause: err });
  }
}

/** A connect attempt that did not complete within `timeoutMs`. */
export function connectTimeoutError(where: string, timeoutMs: number): ConnectTimeoutError {
  return new ConnectTimeoutError(`No connection to ${where} within ${timeoutMs} ms`);
}
