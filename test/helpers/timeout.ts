/** Rejects when `promise` has not settled within `ms`: no test waits unbounded. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` until it returns true, at most `ms`. For state only the OS can tell (a process
 * gone, a count of descriptors), where there is no event to wait on.
 */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string | (() => string), everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    // `what` as a function describes the state at the deadline, not at the call.
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
