/**
 * `bytes` in the layout of `hexdump -C -v`: each line an 8-digit hex offset, 16 bytes in hex (two
 * groups of 8), and those bytes as printable ASCII between bars (`.` for anything else). `start`
 * is the offset of the first byte in its stream, so that consecutive chunks number on. Unlike
 * hexdump, no closing line with the total: the caller's header says the length.
 */
export function hexdumpLines(bytes: Uint8Array, start = 0): string {
  return hexdumpBuffer(bytes, start).toString('latin1');
}

/** A full line: an 8-digit offset, 16 × ` xx` after a space and the group gap, two spaces, `|` 16 characters `|`, newline. */
const LINE = 79;
const SPACE = 0x20;
const BAR = 0x7c;
const DOT = 0x2e;
const NEWLINE = 0x0a;
const DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Per byte value: its two hex digits, and what the text column shows for it. */
const HIGH = Uint8Array.from({ length: 256 }, (_, byte) => DIGITS[byte >>> 4] as number);
const LOW = Uint8Array.from({ length: 256 }, (_, byte) => DIGITS[byte & 15] as number);
const PRINTED = Uint8Array.from({ length: 256 }, (_, byte) => (byte >= 0x20 && byte < 0x7f ? byte : DOT));

/**
 * {@link hexdumpLines} as bytes, after `header` (ASCII) when there is one: what a dump writes.
 * Built byte by byte into one buffer (a 64 KiB chunk in about a millisecond), since a dump of a
 * busy connection runs this on every chunk; building strings took 200 ms a MiB.
 */
export function hexdumpBuffer(bytes: Uint8Array, start = 0, header = ''): Buffer {
  const lines = Math.ceil(bytes.length / 16);
  const tail = bytes.length % 16;
  // Past 4 GiB hexdump widens the offset (up to 13 digits below 2^53), as this does.
  const wide = start + bytes.length > 0xffff_ffff ? lines * 5 : 0;
  const size = header.length + lines * LINE - (tail === 0 ? 0 : 16 - tail) + wide;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(header, 0, 'latin1');
  for (let line = 0; line < bytes.length; line += 16) {
    const count = Math.min(16, bytes.length - line);
    const offset = start + line;
    if (offset <= 0xffff_ffff) {
      for (let d = 7, value = offset; d >= 0; d--, value >>>= 4) out[at + d] = DIGITS[value & 15] as number;
      at += 8;
    } else {
      at += out.write(offset.toString(16), at, 'latin1');
    }
    // A space, 16 × ` xx` with one more space between the groups of 8, two spaces, the text.
    out[at++] = SPACE;
    for (let i = 0; i < 16; i++) {
      if (i === 8) out[at++] = SPACE;
      out[at] = SPACE;
      if (i < count) {
        const byte = bytes[line + i] as number;
        out[at + 1] = HIGH[byte] as number;
        out[at + 2] = LOW[byte] as number;
      } else {
        out[at + 1] = SPACE;
        out[at + 2] = SPACE;
      }
      at += 3;
    }
    out[at] = SPACE;
    out[at + 1] = SPACE;
    out[at + 2] = BAR;
    at += 3;
    for (let i = 0; i < count; i++) out[at + i] = PRINTED[bytes[line + i] as number] as number;
    at += count;
    out[at++] = BAR;
    out[at++] = NEWLINE;
  }
  return at === size ? out : out.subarray(0, at);
}

/**
 * The dump of one connection's traffic, both directions, to `out` (stderr): each chunk headed
 * `LABEL< N bytes` (received) or `LABEL> N bytes` (sent), its lines numbered on from the bytes
 * before it in that direction. Each call returns what `out.write` did: false when the stream will
 * not take more, and whoever feeds the dump should stop reading until {@link HexdumpTap.whenRoom}.
 */
export class HexdumpTap {
  readonly #label: string;
  readonly #out: NodeJS.WritableStream;
  #received = 0;
  #sent = 0;

  /** `label` begins each header: `#3 ` for a server's connection 3, empty for the client. */
  constructor(label: string, out: NodeJS.WritableStream = process.stderr) {
    this.#label = label;
    this.#out = out;
  }

  received(chunk: Uint8Array): boolean {
    const dump = hexdumpBuffer(chunk, this.#received, `${this.#label}< ${chunk.length} bytes\n`);
    this.#received += chunk.length;
    return this.#out.write(dump);
  }

  sent(chunk: Uint8Array): boolean {
    const dump = hexdumpBuffer(chunk, this.#sent, `${this.#label}> ${chunk.length} bytes\n`);
    this.#sent += chunk.length;
    return this.#out.write(dump);
  }

  /** Whether the stream has refused more and not yet drained. */
  get full(): boolean {
    return (this.#out as NodeJS.WritableStream & { writableNeedDrain?: boolean }).writableNeedDrain === true;
  }

  /** Calls `then` once, when the stream has drained (at once if it is not full). */
  whenRoom(then: () => void): void {
    if (!this.full) return then();
    whenDrained(this.#out, then);
  }
}

/**
 * One 'drain' listener per stream whatever number of connections wait on it (a listener each
 * would trip the max-listeners warning past ten, on the very stream the warning goes to).
 */
const drainWaiters = new WeakMap<NodeJS.WritableStream, Set<() => void>>();

function whenDrained(out: NodeJS.WritableStream, then: () => void): void {
  let waiting = drainWaiters.get(out);
  if (waiting === undefined) {
    const set = new Set<() => void>();
    waiting = set;
    drainWaiters.set(out, set);
    out.on('drain', () => {
      const woken = [...set];
      set.clear();
      for (const wake of woken) wake();
    });
  }
  waiting.add(then);
}
