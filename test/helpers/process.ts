import { readdirSync, readFileSync } from 'node:fs';

/** True while `pid` exists and is not a zombie (a zombie has exited; only its entry remains). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Resident set size of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** The pids whose parent is `ppid`. */
export function childrenOf(ppid: number): number[] {
  try {
    const text = readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** CPU time (user + system) `pid` has used, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the state field.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** How many descriptors `pid` has open. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
