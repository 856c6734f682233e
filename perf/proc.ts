// What Linux's /proc says about a process, for the measuring scripts and the tests alike: the
// one place that parses it. Each reader names what it returns when the process is gone.
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat after the parenthesised command name (which may hold spaces). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A `Key:  value` line of /proc/PID/status (or another file of that form), or undefined. */
function statusField(pid: number, key: string, file = 'status'): string | undefined {
  return new RegExp(`^${key}:\\s+(.+)$`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1];
}

/** True while `pid` exists and is not a zombie (a zombie has exited; only its entry remains). */
export function isRunning(pid: number): boolean {
  try {
    const state = statFields(pid)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Resident set size of `pid`, KiB. Throws when the process is gone. */
export function rssKiB(pid: number): number {
  const value = statusField(pid, 'VmRSS');
  if (value === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number.parseInt(value, 10);
}

/** Resident set size of `pid`, bytes. Throws when the process is gone. */
export function rssBytes(pid: number): number {
  return rssKiB(pid) * 1024;
}

/** A `KEY:` figure of /proc/PID/smaps_rollup (Rss, Pss, Private_Dirty...), KiB. */
export function smapsKiB(pid: number, key: string): number {
  return Number.parseInt(statusField(pid, key, 'smaps_rollup') ?? 'NaN', 10);
}

/** The pids whose parent is `ppid`; none once it is gone. */
export function childrenOf(ppid: number): number[] {
  try {
    const text = readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** `pid` and every process under it (a cluster primary and its workers, a fork server and its children). */
export function processTree(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(processTree)];
}

/** CPU time (user + system) `pid` has used, seconds. Throws when the process is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the state field.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The CPUs `pid` may run on, as the kernel lists them ("1", "0-1"). Throws when the process is gone. */
export function cpusAllowed(pid: number): string {
  return statusField(pid, 'Cpus_allowed_list')?.trim() ?? '';
}

/** How many descriptors `pid` has open. Throws when the process is gone. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * RSS (KiB) and open descriptors summed over `pid` and every process under it; a process that
 * exits between the listing and the read counts for nothing.
 */
export function treeUsage(pid: number): { rssKiB: number; fds: number } {
  let rss = 0;
  let fds = 0;
  for (const p of processTree(pid)) {
    try {
      rss += rssKiB(p);
      fds += openFds(p);
    } catch {
      // Gone already.
    }
  }
  return { rssKiB: rss, fds };
}

/** Whether a socket listens on 127.0.0.1:`port` (in /proc/net/tcp, state 0A is LISTEN). */
export function listeningOn(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((line) => line.includes(`:${hex} 00000000:0000 0A`));
}
