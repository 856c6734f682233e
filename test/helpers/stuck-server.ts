import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { within } from './timeout.js';

/**
 * A listener with a backlog of 1 in a stopped process (SIGSTOP): the kernel completes the first
 * connections into its accept queue, then drops every further SYN. Killed when the test ends.
 */
export async function stoppedListener(t: TestContext): Promise<number> {
  const stuck = spawn(
    process.execPath,
    ['-e', "const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))"],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  t.after(() => stuck.kill('SIGKILL'));
  const [line] = (await within(once(stuck.stdout, 'data'), 5000, 'stopped listener port')) as [Buffer];
  stuck.kill('SIGSTOP');
  return Number(line.toString().trim());
}

/**
 * A loopback port where connecting hangs, as it does to a black-holed address: a stopped
 * listener whose accept queue is filled first, so that the kernel drops every SYN from now on.
 */
export async function stuckPort(t: TestContext): Promise<number> {
  const port = await stoppedListener(t);
  const fillers: net.Socket[] = [];
  t.after(() => fillers.forEach((s) => s.destroy()));
  for (let i = 0; i < 16; i++) {
    const filler = net.connect(port, '127.0.0.1');
    filler.on('error', () => {});
    fillers.push(filler);
    const connected = await Promise.race([
      once(filler, 'connect').then(() => true),
      new Promise((resolve) => setTimeout(resolve, 300, false)),
    ]);
    if (!connected) return port;
  }
  throw new Error('could not fill the accept queue');
}
