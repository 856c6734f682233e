import type net from 'node:net';
import type { EchoResult } from './echo-connection.js';
import type { EchoContext } from './echo-context.js';
import { serveConnection, type ConnectionServing, type ServedConnection } from './serve-connection.js';
import { withPeer, type ConnectionClose, type ConnectionHooks, type ConnectionOpen, type Dispatcher } from './connection-events.js';
import { IdleWaiters } from './idle-waiters.js';

/** `--mode event`: every connection echoed concurrently in this process's event loop. */
export class EventDispatcher implements Dispatcher {
  readonly #hooks: ConnectionHooks;
  readonly #serving: ConnectionServing;
  readonly #sockets = new Set<ServedConnection>();
  readonly #idle = new IdleWaiters();
  /** `serving`: its own echo context (buffers and counters for this dispatcher's connections alone) and settings. */
  constructor(hooks: ConnectionHooks, serving: ConnectionServing) {
    this.#hooks = hooks;
    this.#serving = serving;
  }

  /** The echo's buffers and counters. */
  get echo(): EchoContext {
    return this.#serving.context;
  }

  get active(): number {
    return this.#sockets.size;
  }

  dispatch(socket: net.Socket, info: ConnectionOpen): void {
    // With the PROXY protocol the event waits for the header's addresses (see EchoServerEvents).
    let opened = this.#serving.settings.proxyProtocol !== true;
    if (opened) this.#hooks.open(info);
    const proxied = opened ? undefined : (peer: Partial<ConnectionOpen>): void => {
      opened = true;
      this.#hooks.open(withPeer(info, peer));
    };
    const served = serveConnection(socket, this.#serving, (result: EchoResult) => {
      this.#sockets.delete(served);
      if (!opened) proxied?.(result);
      const close: ConnectionClose = result as ConnectionClose;
      // The result becomes the event: one object per connection, not a copy of two.
      close.id = info.id;
      // With the PROXY protocol the result already holds the client's address, from the header.
      if (close.remoteAddress === undefined) {
        close.remoteAddress = info.remoteAddress;
        close.remotePort = info.remotePort;
      }
      if (info.pid !== undefined) close.pid = info.pid;
      this.#hooks.close(close);
      if (this.#sockets.size === 0) this.#idle.wake();
    }, info.id, proxied);
    this.#sockets.add(served);
  }

  idle(): Promise<void> {
    return this.#idle.wait(this.#sockets.size === 0);
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}
