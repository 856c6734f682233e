// The log sink on its own: lines of one turn go out in one write, in order, a busy log writes at
// most once per coalescing window (on mocked timers), a flush before exiting writes what is
// pending at once, and lines past the bound are counted and said.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { LogSink } from '../../src/cli/log-sink.js';

function recorder(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      callback();
    },
  });
  return { stream, writes };
}

test('the lines of one turn of the event loop go out in one write, in order', async () => {
  const { stream, writes } = recorder();
  const log = new LogSink(stream, { stamp: () => 'T' });
  log.line('one');
  log.line('two');
  log.line('three');
  assert.deepEqual(writes, [], 'nothing is written before the turn ends');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(writes, ['one\ntwo\nthree\n']);
});

test('flush() writes what is pending at once', () => {
  const { stream, writes } = recorder();
  const log = new LogSink(stream, { stamp: () => 'T' });
  log.line('last words');
  log.flush();
  assert.deepEqual(writes, ['last words\n']);
});

/** A sink that holds back its first write until `release()`, like a pipe nobody reads. */
function stalledSink(): { stream: Writable; writes: string[]; release: () => void } {
  let held: (() => void) | undefined;
  const writes: string[] = [];
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      if (held === undefined && writes.length === 1) held = callback;
      else callback();
    },
  });
  return { stream, writes, release: () => (held as () => void)() };
}

/** Against a 64-byte bound: a 40-byte line written out, then ten of 20 bytes, of which one fits. */
function overflow(log: LogSink): void {
  log.line('a'.repeat(40));
  log.flush();
  for (let i = 0; i < 10; i++) log.line('b'.repeat(20));
}

test('past the bound lines are counted, not queued, and the count is logged when the stream drains', async () => {
  const { stream, writes, release } = stalledSink();
  const log = new LogSink(stream, { boundBytes: 64, stamp: () => 'T' });
  overflow(log);
  // 41 bytes queued in the stream: one more line of 21 fits under 64, the other nine do not.
  assert.equal(log.dropped, 9);
  release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(writes, ['a'.repeat(40) + '\n', 'b'.repeat(20) + '\n', 'T warning 9 log lines dropped\n']);
  assert.equal(log.dropped, 0);
});

test('JSON logs: the dropped-lines warning is written by droppedLine, under the same bound', async () => {
  const { stream, writes, release } = stalledSink();
  const log = new LogSink(stream, { boundBytes: 64, stamp: () => 'T', droppedLine: (dropped) => JSON.stringify({ event: 'warning', dropped }) });
  overflow(log);
  assert.equal(log.dropped, 9);
  release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.at(-1), '{"event":"warning","dropped":9}\n');
});

/** A sink on mocked timers and a clock the test moves: `advance(ms)` moves both. */
function coalescing(t: TestContext, coalesceMs: number): { log: LogSink; writes: string[]; advance: (ms: number) => void } {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  let clock = 1000;
  const { stream, writes } = recorder();
  const log = new LogSink(stream, { stamp: () => 'T', coalesceMs, now: () => clock });
  return {
    log,
    writes,
    advance: (ms) => {
      clock += ms;
      t.mock.timers.tick(ms);
    },
  };
}

test('with coalesceMs a quiet log writes at the end of the turn, a busy one at most once in that time', (t) => {
  const { log, writes, advance } = coalescing(t, 200);
  log.line('first');
  advance(0);
  assert.deepEqual(writes, ['first\n'], 'the first line goes out at the end of its turn');
  advance(50);
  log.line('second');
  advance(0);
  log.line('third');
  advance(100);
  assert.deepEqual(writes, ['first\n'], 'lines within 200 ms of a write wait');
  advance(49);
  assert.deepEqual(writes, ['first\n'], 'still 1 ms to go');
  advance(1);
  assert.deepEqual(writes, ['first\n', 'second\nthird\n'], 'the waiting lines share one write, in order, 200 ms after the last');
  advance(500);
  log.line('quiet again');
  advance(0);
  assert.equal(writes.at(-1), 'quiet again\n', 'past the window a line goes out at the end of its turn');
});

test('with coalesceMs flush() writes at once and cancels the scheduled write', (t) => {
  const { log, writes, advance } = coalescing(t, 200);
  log.line('one');
  log.flush();
  assert.deepEqual(writes, ['one\n']);
  // Within the window of that write: this one waits its 200 ms, the end-of-turn write that
  // 'one' had scheduled being gone.
  log.line('two');
  advance(0);
  assert.deepEqual(writes, ['one\n'], 'not written at the end of the turn');
  log.flush();
  assert.deepEqual(writes, ['one\n', 'two\n'], 'flush() does not wait for the window');
  advance(1000);
  assert.deepEqual(writes, ['one\n', 'two\n'], 'nothing more, nothing twice');
});

test('a stream that takes every write at once (a file) gets the dropped count at the next flush', () => {
  const { stream, writes } = recorder();
  const log = new LogSink(stream, { boundBytes: 64, stamp: () => 'T' });
  log.line('a'.repeat(40));
  log.line('b'.repeat(20));
  for (let i = 0; i < 3; i++) log.line('c'.repeat(20));
  assert.equal(log.dropped, 3, 'the pending lines alone filled the bound');
  log.flush();
  assert.deepEqual(writes, [`${'a'.repeat(40)}\n${'b'.repeat(20)}\n`, 'T warning 3 log lines dropped\n']);
  assert.equal(log.dropped, 0);
});
