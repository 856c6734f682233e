// What one fork-mode child costs: start time (fork to ready) and memory once ready.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHILD_EXEC_ARGV } from '../src/server/fork-mode.js';
import { smapsKiB } from './proc.js';

const CHILD = fileURLToPath(new URL('../src/server/fork-child.js', import.meta.url));

/** Starts `samples` children one after another, as fork mode does, and reports medians. */
export async function forkChildFigures(samples = 7): Promise<string> {
  const rows: Array<{ readyMs: number; rss: number; pss: number; uss: number }> = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const child = fork(CHILD, ['0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: CHILD_EXEC_ARGV, serialization: 'json' });
    await new Promise((resolve) => child.once('message', resolve));
    const readyMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const pid = child.pid as number;
    rows.push({ readyMs, rss: smapsKiB(pid, 'Rss'), pss: smapsKiB(pid, 'Pss'), uss: smapsKiB(pid, 'Private_Clean') + smapsKiB(pid, 'Private_Dirty') });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const median = (pick: (r: (typeof rows)[0]) => number): number => {
    const sorted = rows.map(pick).sort((a, b) => a - b);
    return sorted[sorted.length >> 1] as number;
  };
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  return [
    `Medians of ${samples} children started one after another (\`execArgv\`: ${CHILD_EXEC_ARGV.length ? CHILD_EXEC_ARGV.join(' ') : 'none'}):`,
    '',
    '| fork to ready (incl. echo warm-up) | RSS | PSS | private (USS) |',
    '|---|---|---|---|',
    `| ${median((r) => r.readyMs).toFixed(0)} ms | ${mib(median((r) => r.rss))} MiB | ${mib(median((r) => r.pss))} MiB | ${mib(median((r) => r.uss))} MiB |`,
    '',
    'RSS counts the pages of the node binary and its libraries that every Node process shares; PSS splits those among the processes sharing them; USS is what this child alone costs.',
  ].join('\n');
}
