// The `--hexdump` layout: exactly `hexdump -C -v`'s, without its closing total line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { hexdumpBuffer, hexdumpLines, HexdumpTap } from '../src/hexdump.js';

const HELLO = Buffer.from('hello world, this is tcpecho!\n\x00\xff\x7f', 'latin1');

test('a known payload in the hexdump -C layout', () => {
  assert.equal(
    hexdumpLines(HELLO),
    '00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|\n' +
      '00000010  73 20 69 73 20 74 63 70  65 63 68 6f 21 0a 00 ff  |s is tcpecho!...|\n' +
      '00000020  7f                                                |.|\n',
  );
  assert.equal(hexdumpLines(Buffer.alloc(0)), '');
});

test('the same as the real `hexdump -C -v` for every byte value and a short last line', (t) => {
  const which = spawnSync('sh', ['-c', 'command -v hexdump']);
  if (which.status !== 0) return void t.skip('hexdump is not installed (the fixed layout above still ran)');
  // Every byte value, repeated lines (which -v keeps), and 7 bytes on the last line.
  const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.alloc(48, 0x41), HELLO.subarray(0, 7)]);
  const real = spawnSync('hexdump', ['-C', '-v'], { input: data });
  assert.equal(real.status, 0);
  const lines = real.stdout.toString('latin1').split('\n');
  // hexdump ends with the total as an offset line, then a newline.
  assert.equal(lines.pop(), '');
  assert.equal(lines.pop(), data.length.toString(16).padStart(8, '0'));
  assert.equal(hexdumpLines(data), `${lines.join('\n')}\n`);
});

test('offsets number on from `start`, and widen past 4 GiB as hexdump does', () => {
  assert.equal(hexdumpLines(HELLO.subarray(0, 3), 0x30), `00000030  68 65 6c${' '.repeat(42)}|hel|\n`);
  assert.match(hexdumpLines(HELLO.subarray(0, 1), 0x1_0000_0010), /^100000010  68 /);
  assert.equal(hexdumpBuffer(HELLO.subarray(0, 2), 0, 'head\n').toString('latin1'), `head\n${hexdumpLines(HELLO.subarray(0, 2))}`);
});

/** A stream that takes writes and completes them only when told to: a stderr nobody reads. */
class HeldStream extends Writable {
  text = '';
  readonly #held: Array<() => void> = [];
  #released = false;
  constructor() {
    super({ highWaterMark: 100 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('latin1');
    if (this.#released) callback();
    else this.#held.push(callback);
  }
  /** From now on every write completes. */
  release(): void {
    this.#released = true;
    for (const callback of this.#held.splice(0)) callback();
  }
}

test('a tap heads each chunk with its direction and length, numbering each direction on its own', async () => {
  const out = new HeldStream();
  const tap = new HexdumpTap('#7 ', out);
  tap.received(HELLO.subarray(0, 20));
  tap.sent(HELLO.subarray(0, 5));
  tap.received(HELLO.subarray(20));
  out.release();
  await new Promise((resolve) => out.write('', resolve));
  assert.equal(
    out.text,
    `#7 < 20 bytes\n${hexdumpLines(HELLO.subarray(0, 20))}` +
      `#7 > 5 bytes\n${hexdumpLines(HELLO.subarray(0, 5))}` +
      `#7 < ${HELLO.length - 20} bytes\n${hexdumpLines(HELLO.subarray(20), 20)}`,
  );
});

test('a tap says when its stream is full, and wakes every waiter once it drains', async () => {
  const out = new HeldStream();
  const taps = Array.from({ length: 20 }, (_, i) => new HexdumpTap(`#${i} `, out));
  assert.equal(taps[0]?.received(HELLO), false, 'past the stream’s high-water mark');
  assert.equal(taps[0]?.full, true);
  let woken = 0;
  // Twenty waiters, one 'drain' listener: no max-listeners warning on the very stream it goes to.
  for (const tap of taps) tap.whenRoom(() => woken++);
  assert.equal(woken, 0);
  assert.ok(out.listenerCount('drain') <= 1);
  out.release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(woken, 20);
  assert.equal(taps[1]?.full, false);
  taps[1]?.whenRoom(() => woken++);
  assert.equal(woken, 21, 'at once when there is room');
});
