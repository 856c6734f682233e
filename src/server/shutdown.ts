import type net from 'node:net';

/**
 * A server's one shutdown, whichever of `close()` and `destroy()` starts it: both get the same
 * promise, and `destroy()` during a drain cuts the drain short. `run` receives a promise that
 * resolves when the shutdown is forced.
 */
export class Shutdown {
  readonly #run: (forced: Promise<void>) => Promise<void>;
  readonly #forced: Promise<void>;
  #force: () => void = () => {};
  #done: Promise<void> | undefined;

  constructor(run: (forced: Promise<void>) => Promise<void>) {
    this.#run = run;
    this.#forced = new Promise((resolve) => (this.#force = resolve));
  }

  /** True once `start` has been called: the server is draining or closed. */
  get started(): boolean {
    return this.#done !== undefined;
  }

  /** Starts the shutdown (forced: close everything now) unless it has started; resolves when it is over. */
  start(force: boolean): Promise<void> {
    if (force) this.#force();
    this.#done ??= this.#run(this.#forced);
    return this.#done;
  }
}

/**
 * Stops `server` accepting and closes its listening handle; resolves on the next turn, once libuv
 * has closed it. Not on the server's 'close' event: once sockets have been sent to child processes,
 * Node 20 emits it only after asking each of them, and never at all when every such child has
 * already exited (`Server#close` polls zero workers and is left one connection short).
 */
export function closeListener(server: net.Server): Promise<void> {
  server.close();
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * `promise`, with the event loop held alive until it settles. Waiting for child processes to be
 * fully gone needs it: between a child's exit and its IPC channel's close, Node can hold no ref'd
 * handle for it, and a caller awaiting `destroy()` at the top level of a module then sees the loop
 * end under it (exit code 13, an unsettled top-level await; seen in about one run in twelve).
 */
export async function holdingLoop<T>(promise: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(hold);
  }
}
