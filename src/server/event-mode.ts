import type net from 'node:net';
import { echoConnection, type EchoResult } from './echo-connection.js';
import { EchoContext } from './echo-context.js';
import type { ConnectionClose, ConnectionHooks, ConnectionOpen, Dispatcher } from './connection-events.js';
import { IdleWaiters } from './idle-waiters.js';

/** `--mode event`: every connection echoed concurrently in this process's event loop. */
export class EventDispatcher implements Dispatcher {
  readonly #hooks: ConnectionHooks;
  readonly #idleTimeoutMs: number;
  readonly #sockets = new Set<net.Socket>();
  readonly #idle = new IdleWaiters();
  /** The echo's buffers and counters for this dispatcher's connections alone. */
  readonly echo = new EchoContext();

  constructor(hooks: ConnectionHooks, options: { idleTimeoutMs: number }) {
    this.#hooks = hooks;
    this.#idleTimeoutMs = options.idleTimeoutMs;
  }

  get active(): number {
    return this.#sockets.size;
  }

  dispatch(socket: net.Socket, info: ConnectionOpen): void {
    this.#hooks.open(info);
    const served = echoConnection(socket, this.echo, (result: EchoResult) => {
      this.#sockets.delete(served);
      const close: ConnectionClose = result as ConnectionClose;
      // The result becomes the event: one object per connection, not a copy of two.
      close.id = info.id;
      close.remoteAddress = info.remoteAddress;
      close.remotePort = info.remotePort;
      if (info.pid !== undefined) close.pid = info.pid;
      this.#hooks.close(close);
      if (this.#sockets.size === 0) this.#idle.wake();
    }, this.#idleTimeoutMs);
    this.#sockets.add(served);
  }

  idle(): Promise<void> {
    return this.#idle.wait(this.#sockets.size === 0);
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}
