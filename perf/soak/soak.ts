// `npm run soak`: leaves the server running under a mix of well- and ill-behaved clients for a
// bounded time, samples its memory and descriptors every second, and says whether anything
// leaked or was lost.
//
//   npm run soak -- [--mode event|fork|cluster] [--minutes 2 | --seconds N] [--out DIR]
//
// Without --mode, each mode in turn. Writes soak-MODE.csv, soak-MODE.svg (the chart) and
// soak-MODE.log (the server's log) to DIR (default perf/out; the runs kept are under
// bench/results/soak/). Exit 0 when every mode passes, 1 otherwise.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Pattern } from '../../src/bench/pattern.js';
import { treeUsage } from '../proc.js';
import { soakChart, soakCsv, type SoakRow } from './chart.js';
import {
  churnLoop,
  halfCloseLoop,
  idleClients,
  pingPongLoop,
  resetLoop,
  slowReader,
  streamLoop,
  type SoakContext,
  type SoakCounters,
} from './clients.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MODES = ['event', 'fork', 'cluster'] as const;

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    minutes: { type: 'string', default: '2' },
    seconds: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('../../../perf/out/', import.meta.url)) },
  },
});
const RUN_S = values.seconds === undefined ? Number(values.minutes) * 60 : Number(values.seconds);
if (!(RUN_S > 0 && RUN_S <= 24 * 3600)) {
  console.error('soak: expected --minutes or --seconds to be a positive duration of at most a day');
  process.exit(2);
}
const modes = values.mode === undefined ? [...MODES] : [values.mode];
if (!modes.every((m) => (MODES as readonly string[]).includes(m))) {
  console.error(`soak: expected --mode to be one of ${MODES.join(', ')}`);
  process.exit(2);
}

function sample(pid: number): { rssMiB: number; fds: number } {
  const { rssKiB, fds } = treeUsage(pid);
  return { rssMiB: rssKiB / 1024, fds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? 0;
}

/** The shortest warm-up before RSS growth is measured (see where it is used). */
const WARM_UP_MIN_S = 15;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function soak(mode: string): Promise<boolean> {
  mkdirSync(values.out, { recursive: true });
  const logPath = join(values.out, `soak-${mode}.log`);
  const logFd = openSync(logPath, 'w');
  const server = spawn(process.execPath, [CLI, 'server', '-H', '127.0.0.1', '-p', '0', '-m', mode, ...(mode === 'cluster' ? ['--workers', '2'] : [])], {
    stdio: ['ignore', 'ignore', logFd],
  });
  closeSync(logFd);
  let port = 0;
  for (let i = 0; i < 200 && port === 0; i++) {
    await sleep(50);
    port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(readFileSync(logPath, 'utf8'))?.[1] ?? 0);
  }
  if (port === 0) throw new Error(`the ${mode} server did not start; see ${logPath}`);
  const pid = server.pid as number;
  await sleep(1000);
  const idle = sample(pid);

  const counters: SoakCounters = { messages: 0, bytesVerified: 0, connections: 0, failures: [] };
  let stopped = false;
  const ctx: SoakContext = { port, pattern: new Pattern(8 * 1024 * 1024), counters, stopped: () => stopped };
  const held: net.Socket[] = [await slowReader(ctx), ...(await idleClients(ctx, 10))];
  const loops = [
    ...Array.from({ length: 4 }, () => pingPongLoop(ctx)),
    ...Array.from({ length: 2 }, () => streamLoop(ctx)),
    ...Array.from({ length: 2 }, () => churnLoop(ctx)),
    resetLoop(ctx),
    halfCloseLoop(ctx),
  ];

  const rows: SoakRow[] = [];
  const started = Date.now();
  let lastMessages = 0;
  while (Date.now() - started < RUN_S * 1000) {
    await sleep(1000);
    const { rssMiB, fds } = sample(pid);
    rows.push({ t: (Date.now() - started) / 1000, rssMiB, fds, messagesPerS: counters.messages - lastMessages });
    lastMessages = counters.messages;
  }
  stopped = true;
  await Promise.race([Promise.all(loops), sleep(30_000)]);
  for (const socket of held) socket.destroy();

  // Descriptors back to the idle count within 5 s of the clients leaving.
  const left = Date.now();
  let fdsAfter = sample(pid).fds;
  while (fdsAfter > idle.fds && Date.now() - left < 5000) {
    await sleep(100);
    fdsAfter = sample(pid).fds;
  }
  const fdsBackMs = Date.now() - left;

  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  const log = readFileSync(logPath, 'utf8').split('\n');
  const unexpected = log.filter((line) => line !== '' && !/^tcpecho listening| (open|close) #\d+ |^received SIGTERM|^stopped$/.test(line));

  // RSS growth after the warm-up: median of the first samples after it against the median of the
  // last ones. The warm-up is the first fifth of the run, but at least 15 s (and at most half the
  // run): the server's RSS climbs to its working set over the first seconds of this mix, later
  // when the machine is busy, and since the echo reads 4 KiB and more into its bounded pool
  // (fewer allocations, so the heap and malloc's arenas grow more slowly) that took 11-13 s,
  // to the same level as before (about 100 MiB, flat after); a 10 s warm-up then failed runs
  // that had no leak, as a 5 s one had before.
  const warmUpS = Math.min(RUN_S / 2, Math.max(WARM_UP_MIN_S, RUN_S / 5));
  const warm = rows.filter((r) => r.t >= warmUpS);
  const window = Math.max(3, Math.floor(warm.length / 5));
  const rssStart = median(warm.slice(0, window).map((r) => r.rssMiB));
  const rssEnd = median(warm.slice(-window).map((r) => r.rssMiB));
  const growth = rssStart > 0 ? (rssEnd - rssStart) / rssStart : 0;

  writeFileSync(join(values.out, `soak-${mode}.csv`), soakCsv(rows));
  writeFileSync(join(values.out, `soak-${mode}.svg`), soakChart(mode, RUN_S, rows));

  const problems: string[] = [];
  if (counters.failures.length > 0) problems.push(`${counters.failures.length} client failure(s): ${counters.failures.slice(0, 3).join('; ')}`);
  if (unexpected.length > 0) problems.push(`unexpected server log: ${unexpected.slice(0, 3).join(' | ')}`);
  if (warm.length >= 2 && growth >= 0.1) problems.push(`RSS grew ${(growth * 100).toFixed(1)}% after the warm-up`);
  if (fdsAfter > idle.fds) problems.push(`descriptors ${fdsAfter}, not back to the idle ${idle.fds} within 5 s`);
  if (counters.messages === 0) problems.push('no message was echoed');
  const verdict = problems.length === 0 ? 'PASS' : 'FAIL';
  console.log(
    `soak ${verdict} mode=${mode} ${RUN_S}s: ${counters.messages} messages, ${(counters.bytesVerified / 2 ** 30).toFixed(2)} GiB verified, ` +
      `${counters.connections} connections, ${counters.failures.length} lost or corrupted; ` +
      `RSS ${rssStart.toFixed(1)} -> ${rssEnd.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%) after a ${warmUpS} s warm-up; ` +
      `descriptors idle ${idle.fds}, back to ${fdsAfter} in ${(fdsBackMs / 1000).toFixed(1)} s` +
      (problems.length > 0 ? `; ${problems.join('; ')}` : ''),
  );
  return problems.length === 0;
}

let ok = true;
for (const mode of modes) ok = (await soak(mode)) && ok;
process.exit(ok ? 0 : 1);
