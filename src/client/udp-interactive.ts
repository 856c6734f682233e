import type dgram from 'node:dgram';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { systemCode } from '../errors.js';
import type { DatagramWatch } from './udp-pipe.js';

export interface UdpInteractiveOptions {
  input: Readable;
  output: Writable;
  /** Status lines (stderr on the CLI). */
  log: (line: string) => void;
  /** How long an echo may take before `no echo within` is said. */
  timeoutMs: number;
  /** Ends the session (Ctrl-C on the CLI). */
  signal?: AbortSignal;
  /** Told of every datagram sent and received (`--hexdump`). */
  watch?: DatagramWatch;
}

/** Lines awaiting their echo at once, past which the oldest is given up (a bound on memory). */
const MAX_WAITING = 1024;

/**
 * A person at a terminal, over UDP: each line typed (with its newline, as `nc -u` sends it) is
 * one datagram; each echo is written as it comes. A line whose echo has not come within
 * `timeoutMs` gets `no echo within N s` on the log, and the session goes on. The end of input or
 * the signal ends it; resolves then.
 */
export function udpInteractive(socket: dgram.Socket, options: UdpInteractiveOptions): Promise<void> {
  const { input, output, log, timeoutMs, signal, watch } = options;
  const waiting: { line: Buffer; timer: NodeJS.Timeout }[] = [];
  const seconds = `${timeoutMs / 1000} s`;
  return new Promise((resolve) => {
    const lines = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
    let inputEnded = false;
    // Past the end of input, the echoes still owed are awaited (each at most timeoutMs).
    const settle = (): void => {
      if (inputEnded && waiting.length === 0) finish();
    };
    function socketOnMessage(message: Buffer): void {
      watch?.received(message);
      output.write(message);
      const at = waiting.findIndex((w) => w.line.equals(message));
      if (at === -1) return;
      clearTimeout(waiting[at]?.timer);
      waiting.splice(at, 1);
      settle();
    }
    function socketOnError(err: Error): void {
      // Connected UDP: an ICMP port unreachable for an earlier datagram.
      log(systemCode(err) === 'ECONNREFUSED' ? 'No UDP echo server there (ICMP port unreachable).' : `UDP error: ${err.message}`);
    }
    function send(text: string): void {
      const line = Buffer.from(`${text}\n`);
      if (waiting.length >= MAX_WAITING) clearTimeout(waiting.shift()?.timer);
      const entry = {
        line,
        timer: setTimeout(() => {
          const at = waiting.indexOf(entry);
          if (at !== -1) waiting.splice(at, 1);
          log(`no echo within ${seconds}`);
          settle();
        }, timeoutMs),
      };
      waiting.push(entry);
      watch?.sent(line);
      socket.send(line, (err) => err && socketOnError(err));
    }
    let finished = false;
    function finish(): void {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', finish);
      lines.off('line', send);
      lines.close();
      socket.off('message', socketOnMessage);
      socket.off('error', socketOnError);
      for (const w of waiting) clearTimeout(w.timer);
      resolve();
    }
    socket.on('message', socketOnMessage);
    socket.on('error', socketOnError);
    lines.on('line', send);
    lines.once('close', () => {
      inputEnded = true;
      settle();
    });
    signal?.addEventListener('abort', finish, { once: true });
    if (signal?.aborted) finish();
  });
}
