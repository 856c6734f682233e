import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { halfClose } from '../half-close.js';
import { connectionFailure } from './pipe.js';

export interface InteractiveOptions {
  input: Readable;
  output: Writable;
  /** Where status lines go (stderr on the CLI). */
  log: (line: string) => void;
  /** Aborting it (Ctrl-C on the CLI) ends the session cleanly. */
  signal?: AbortSignal;
}

/** How long to wait for the server's close after we end our side. */
const CLOSE_WAIT_MS = 2000;

/**
 * A person at a terminal: each line they type is sent as it is entered (the terminal's line
 * discipline does the editing) and every echo is shown as it arrives. Ctrl-D (end of input) or
 * the abort signal half-closes and waits briefly for the last echoes; the server closing ends the
 * session too. Resolves when the session is over; rejects on a connection error.
 */
export function interactive(socket: net.Socket, options: InteractiveOptions): Promise<void> {
  const { input, output, log, signal } = options;
  return new Promise((resolve, reject) => {
    let userEnded = false;
    let failure: Error | undefined;

    function finishByUser(): void {
      if (userEnded) return;
      userEnded = true;
      input.unpipe(socket);
      input.pause();
      halfClose(socket);
      setTimeout(() => socket.destroy(), CLOSE_WAIT_MS).unref();
    }

    input.pipe(socket, { end: false });
    input.once('end', finishByUser);
    signal?.addEventListener('abort', finishByUser, { once: true });
    socket.on('data', (chunk: Buffer) => output.write(chunk));
    socket.on('error', (err) => {
      failure ??= connectionFailure(err);
    });
    socket.once('end', () => {
      if (!userEnded) log('The server closed the connection.');
      finishByUser();
    });
    socket.once('close', () => {
      signal?.removeEventListener('abort', finishByUser);
      input.unpipe(socket);
      input.pause();
      if (failure) reject(failure);
      else resolve();
    });
  });
}
