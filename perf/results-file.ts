// One file a run under bench/results/: named by the minute it was written, never one that exists.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** `2026-12-01T10-30` for 10:30 UTC on that day: sorts by time, and no colon (not every file system takes one). */
export function minuteStamp(date: Date): string {
  return date.toISOString().slice(0, 16).replace(':', '-');
}

/**
 * Writes `text` to a new file in `dir`, `STAMP-KIND.md` (then `STAMP-KIND-2.md`, `-3`... when a
 * run of the same minute has one already), and returns its path. An existing file is never
 * opened for writing: the name is claimed with O_EXCL.
 */
export function writeNewResultsFile(dir: string, kind: string, text: string, date = new Date()): string {
  for (let n = 1; ; n++) {
    const path = join(dir, `${minuteStamp(date)}-${kind}${n === 1 ? '' : `-${n}`}.md`);
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return path;
  }
}
