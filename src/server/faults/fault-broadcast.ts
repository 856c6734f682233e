import type { ChildProcess } from 'node:child_process';
import type { Faults } from './faults.js';

/** A process that does not confirm within this long is taken as gone (it is exiting, or stuck). */
const ACK_TIMEOUT_MS = 5000;

let nextSerial = 1;

/**
 * Sends the faults in force to every one of `children` (fork children, spares included, or cluster
 * workers) and resolves once each has confirmed them, has exited, or has let the bound pass.
 */
export async function broadcastFaults(children: Iterable<ChildProcess>, faults: Faults | undefined): Promise<void> {
  const serial = nextSerial++;
  await Promise.all([...children].map((child) => tellChild(child, faults, serial)));
}

function tellChild(child: ChildProcess, faults: Faults | undefined, serial: number): Promise<void> {
  if (!child.connected || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      child.off('message', childOnMessage);
      child.off('exit', finish);
      resolve();
    };
    const childOnMessage = (message: unknown): void => {
      if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'faults-applied' &&
        (message as { serial?: unknown }).serial === serial) finish();
    };
    const timer = setTimeout(finish, ACK_TIMEOUT_MS).unref();
    child.on('message', childOnMessage);
    child.once('exit', finish);
    child.send({ type: 'faults', faults, serial }, (err) => err && finish());
  });
}
