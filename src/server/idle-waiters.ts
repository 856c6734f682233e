/** Promises that resolve the next time a set of connections becomes empty. */
export class IdleWaiters {
  #waiters: Array<() => void> = [];

  /** Resolves at once when `isIdle`, else at the next `wake()`. */
  wait(isIdle: boolean): Promise<void> {
    if (isIdle) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
