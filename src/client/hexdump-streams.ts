import { pipeline, Transform, Writable, type Readable } from 'node:stream';
import type { HexdumpTap } from '../hexdump.js';

// The client's `--hexdump`: streams put between the client and its input and output, so that the
// pipe and interactive clients stay as they are. Each waits while the dump's stream (stderr) will
// not take more, and the waiting reaches the connection through the usual backpressure.

/** `input`, each chunk dumped as sent (`> N bytes`) before it passes on. */
export function dumpedInput(input: Readable, tap: HexdumpTap): Readable {
  const through = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      tap.sent(chunk);
      tap.whenRoom(() => callback(null, chunk));
    },
  });
  // pipeline rather than pipe: an error reading the input reaches the reader as this stream's.
  pipeline(input, through, () => {});
  return through;
}

/** `output`, each chunk dumped as received (`< N bytes`) before it is written there. */
export function dumpedOutput(output: Writable, tap: HexdumpTap): Writable {
  const into = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      // An empty write is how a caller learns that everything before it is flushed: pass it on.
      if (chunk.length === 0) return void output.write(chunk, () => callback());
      tap.received(chunk);
      const next = (): void => tap.whenRoom(() => callback());
      if (output.write(chunk)) next();
      else output.once('drain', next);
    },
  });
  output.on('error', (err) => into.destroy(err));
  return into;
}
