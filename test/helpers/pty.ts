// A real pseudo-terminal for the CLI: util-linux `script` allocates one and runs the command on
// it, so stdin/stderr are TTYs and Ctrl-C / Ctrl-D go through the terminal's line discipline
// exactly as they do for a person at a keyboard.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI } from './cli.js';

/** A skip reason for node:test when `script` is missing, else false. */
export const noPty = spawnSync('script', ['--version']).status !== 0 && 'util-linux `script` is not installed';

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Runs `tcpecho ...args` on a fresh pseudo-terminal; the terminal's output is the child's stdout. */
export function spawnCliOnPty(args: string[]): ChildProcessWithoutNullStreams {
  // `script` runs the command through $SHELL (or /bin/sh when unset: dash on Debian). `exec` makes
  // tcpecho the only process in the terminal's foreground group; otherwise a shell that stays to
  // wait also gets the Ctrl-C and dies of it (exit 130) however cleanly tcpecho exits.
  const command = `exec ${[process.execPath, CLI, ...args].map(shellQuote).join(' ')}`;
  return spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
}
