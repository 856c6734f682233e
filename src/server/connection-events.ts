import type { EchoResult } from './echo-connection.js';

/** Reported when a connection is accepted and handed to whatever will echo it. */
export interface ConnectionOpen {
  /** Sequence number of the connection within this server, from 1. */
  id: number;
  /**
   * The client's address; `'unix'` for a client on a Unix socket, which has none. With the PROXY
   * protocol, the client's address the header carried (a LOCAL header: the balancer's own).
   */
  remoteAddress: string;
  /** The client's port; 0 on a Unix socket. */
  remotePort: number;
  /** The process echoing this connection: the child in fork mode, the worker in cluster mode. Absent in event mode. */
  pid?: number;
  /** With the PROXY protocol, once the header is read: the balancer's address and port (the TCP peer). */
  proxyAddress?: string;
  proxyPort?: number;
}

/** With the PROXY protocol: the addresses of a connection once its header is read. */
export interface ProxiedPeer {
  remoteAddress: string;
  remotePort: number;
  proxyAddress: string;
  proxyPort: number;
}

/** Reported when a connection has closed. */
export interface ConnectionClose extends EchoResult {
  /** As in its `connection` event; 0 for a cluster client that left before any worker took it. */
  id: number;
  remoteAddress: string;
  remotePort: number;
  pid?: number;
  /** Fork mode, reason `child-exit`: the signal or exit code the child ended with. */
  childExit?: string;
}

/**
 * With the PROXY protocol the `connection` event waits for the header (see EchoServerEvents): the
 * addresses it carried go on `info`. A connection that closes without one (a bad header) has its
 * event then, with what its close record says.
 */
export function withPeer(info: ConnectionOpen, peer: Partial<ProxiedPeer>): ConnectionOpen {
  if (peer.remoteAddress !== undefined) info.remoteAddress = peer.remoteAddress;
  if (peer.remotePort !== undefined) info.remotePort = peer.remotePort;
  if (peer.proxyAddress !== undefined) info.proxyAddress = peer.proxyAddress;
  if (peer.proxyPort !== undefined) info.proxyPort = peer.proxyPort;
  return info;
}

/** How a mode reports connection lifecycles to the server that owns it. */
export interface ConnectionHooks {
  open(info: ConnectionOpen): void;
  close(info: ConnectionClose): void;
  /** A failure that did not stop the server (a child that could not be started, ...). */
  warning(error: Error): void;
}

/**
 * One way of serving accepted connections (a server mode). The listener accepts; the dispatcher
 * owns every connection from then on.
 */
export interface Dispatcher {
  /** Takes ownership of an accepted socket. */
  dispatch(socket: import('node:net').Socket, info: ConnectionOpen): void;
  /** Connections accepted and not yet closed, including any waiting for a process. */
  readonly active: number;
  /** The server has stopped accepting: release what only new clients would use. */
  beginDrain?(): void;
  /** Resolves once no connection is left. */
  idle(): Promise<void>;
  /** Ends every connection now and releases every process; `idle()` resolves after. */
  destroyAll(): void;
  /** Resolves once every process this dispatcher started has exited (none left running). */
  exited?(): Promise<void>;
}

/**
 * The drain of every mode's connections once the listener is closed: let them finish for up to
 * `timeoutMs` (or until `stopNow` resolves), then end the rest; resolves once none is left.
 */
export async function drainDispatcher(dispatcher: Dispatcher, timeoutMs: number, stopNow?: Promise<void>): Promise<void> {
  dispatcher.beginDrain?.();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race(stopNow === undefined ? [dispatcher.idle(), deadline] : [dispatcher.idle(), deadline, stopNow]);
  } finally {
    clearTimeout(timer);
  }
  dispatcher.destroyAll();
  await dispatcher.idle();
}
