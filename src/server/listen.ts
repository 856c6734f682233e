import type net from 'node:net';
import { AddressInUseError, ListenError, PermissionDeniedError, systemCode } from '../errors.js';
import type { EchoServerAddress } from './types.js';
import { formatAddress } from '../options/values.js';
import { unixUrl, userUnixPath } from '../unix-path.js';
import { listenUnix } from './listen-unix.js';

/** Binds and listens; rejects with a coded error (`EADDRINUSE`, `EACCES`, ...) naming the address. */
/** Where and how to listen: `host` undefined is every interface; `ipv6Only` with `::` refuses IPv4. */
export interface ListenTarget {
  port: number;
  host: string | undefined;
  backlog: number;
  ipv6Only: boolean;
  /** A Unix socket path or `@name` to listen on instead (host and port then unused). */
  unix?: string | undefined;
  /** The Unix socket file's permissions, set after listening. */
  unixMode?: number | undefined;
}

export async function listenOn(server: net.Server, target: ListenTarget): Promise<void> {
  if (target.unix !== undefined) return listenUnix(server, target.unix, target.backlog, target.unixMode);
  const { port, host, backlog, ipv6Only } = target;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(listenError(err, host, port));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(host === undefined ? { port, backlog, ipv6Only } : { port, host, backlog, ipv6Only });
  });
}

export function listenError(err: Error, host: string | undefined, port: number): Error {
  const where = host === undefined ? `port ${port}` : formatAddress(host, port);
  switch (systemCode(err)) {
    case 'EADDRINUSE':
      return new AddressInUseError(`Cannot listen on ${where}: address already in use (EADDRINUSE)`, { cause: err });
    case 'EACCES':
      return new PermissionDeniedError(
        `Cannot listen on ${where}: permission denied (EACCES); ports below 1024 need root or CAP_NET_BIND_SERVICE`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(`Cannot listen on ${where}: no such local address (EADDRNOTAVAIL)`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`Cannot listen on ${where}: unknown host \`${host ?? ''}\``, { cause: err });
    default:
      return new ListenError(`Cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}

/**
 * Where a listening server is, with the real port when 0 was asked. On a Unix socket: the path
 * (or `@name`) as `host`, port 0, family `unix`.
 */
export function listeningAddress(server: net.Server): EchoServerAddress {
  const address = server.address();
  if (address === null) throw new ListenError('The server is not listening');
  if (typeof address === 'string') return { host: userUnixPath(address), port: 0, family: 'unix' };
  return { host: address.address, port: address.port, family: address.family };
}

/** A server's `url`: `HOST:PORT` (IPv6 hosts in brackets), or `unix:PATH`. */
export function addressUrl({ host, port, family }: EchoServerAddress): string {
  return family === 'unix' ? unixUrl(host) : formatAddress(host, port);
}
