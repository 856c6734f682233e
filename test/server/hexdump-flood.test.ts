// `--hexdump` is paced by stderr: a 64 MiB flood through a server whose stderr is read slowly
// keeps the echoing process's memory bounded and its echo slowed to the dump's pace; once stderr
// is read, every byte comes back, exact. Without the pacing the dump (about 10 bytes of text for
// each byte echoed, both ways) would queue in memory: over 600 MB for this flood.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { CLI } from '../helpers/cli.js';
import { pseudoRandomBytes } from '../helpers/echo.js';
import { childrenOf, rssBytes } from '../helpers/process.js';
import { until, within } from '../helpers/timeout.js';

const TOTAL = 64 * 1024 * 1024;
/** Generous: a server at rest is about 50 MiB; the unpaced dump of this flood is over 600 MB. */
const MAX_RSS = 300 * 1024 * 1024;
/** How long stderr is read slowly while the flood runs. */
const SLOW_MS = 2500;


// Event mode only: a fork child or a cluster worker runs the same echo on the same inherited
// stderr (test/cli/access-cli.test.ts shows their dumps), and each run of this drains 600 MB of dump.
const MODES: Array<'event' | 'fork'> = ['event'];
for (const mode of MODES) {
  test(`${mode} mode: a 64 MiB flood with --hexdump and stderr read slowly stays bounded and paced, then echoes exact`, async (t) => {
    const server = spawn(process.execPath, [CLI, 'server', '--host', '127.0.0.1', '--port', '0', '--mode', mode, ...(mode === 'fork' ? ['--spare', '1'] : []), '--hexdump', '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    t.after(() => server.kill('SIGKILL'));
    const stderr = server.stderr;
    // Until the ready line, read as usual; keep only the text before the dump starts.
    let head = '';
    const collect = (chunk: Buffer): void => void (head += chunk.toString('latin1'));
    stderr.on('data', collect);
    await until(() => /listening on .*:\d+ \(mode/.test(head), 10_000, () => `the ready line (got ${head})`);
    stderr.off('data', collect);
    stderr.pause();
    const port = Number(/:(\d+) \(mode/.exec(head)?.[1]);
    // From here stderr is read a little at a time: whatever Node has buffered (at most its 16 KiB
    // high-water mark) every 50 ms, about 300 KiB/s, against the dump's megabytes.
    let dumped = 0;
    const slowReader = setInterval(() => {
      for (let chunk = stderr.read() as Buffer | null; chunk !== null; chunk = stderr.read() as Buffer | null) dumped += chunk.length;
    }, 50);
    t.after(() => clearInterval(slowReader));

    const data = pseudoRandomBytes(TOTAL, 0x2545f491);
    const expected = createHash('sha256').update(data).digest('hex');
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    t.after(() => client.destroy());
    const hash = createHash('sha256');
    let echoed = 0;
    client.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      echoed += chunk.length;
    });
    const ended = new Promise<void>((resolve, reject) => {
      client.once('end', resolve);
      client.once('error', reject);
    });
    client.end(data);

    // The process that echoes: the server, or (fork mode) the connection's child, measured with
    // the spare beside it.
    const echoPids = (): number[] => (mode === 'fork' ? childrenOf(server.pid as number) : [server.pid as number]);
    let maxRss = 0;
    const started = Date.now();
    while (Date.now() - started < SLOW_MS) {
      for (const pid of echoPids()) {
        try {
          maxRss = Math.max(maxRss, rssBytes(pid));
        } catch {
          // A spare that just exited.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const echoedWhileSlow = echoed;
    assert.ok(maxRss < MAX_RSS, `echoing process RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB while stderr was read slowly`);
    // The echo keeps the dump's pace: nowhere near the whole flood, though the client reads freely.
    assert.ok(echoedWhileSlow < TOTAL / 4, `${echoedWhileSlow} bytes echoed with ${dumped} bytes of dump read`);
    t.diagnostic(`slow stderr: ${echoedWhileSlow} bytes echoed, ${dumped} bytes of dump read, RSS at most ${(maxRss / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(echoedWhileSlow > 0, 'the echo is slowed, not stopped');

    // Now stderr is read as fast as it comes: the rest of the flood echoes, byte for byte.
    clearInterval(slowReader);
    stderr.on('data', (chunk: Buffer) => void (dumped += chunk.length));
    stderr.resume();
    await within(ended, 90_000, `the whole echo (${echoed} of ${TOTAL} bytes so far)`);
    assert.equal(echoed, TOTAL);
    assert.equal(hash.digest('hex'), expected, 'the echo is the flood, byte for byte');
    // Each byte dumped twice (received and sent), at about 4.9 bytes of text each.
    assert.ok(dumped > TOTAL * 9, `${dumped} bytes of dump`);
  });
}
