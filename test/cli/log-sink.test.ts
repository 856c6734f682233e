// The log sink on its own: lines of one turn go out in one write, in order, a busy log writes at
// most once per coalescing window, and a flush before exiting writes what is pending at once.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { LogSink } from '../../src/cli/log-sink.js';
import { stamp } from '../../src/cli/server-log.js';
import { until } from '../helpers/timeout.js';

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

test('with coalesceMs a busy log writes at most once in that time, and a quiet one at the end of the turn', async () => {
  const { stream, writes } = recorder();
  const log = new LogSink(stream, { stamp: () => 'T', coalesceMs: 200 });
  log.line('first');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(writes, ['first\n'], 'the first line goes out at the end of its turn');
  const wroteAt = performance.now();
  log.line('second');
  await new Promise((resolve) => setImmediate(resolve));
  log.line('third');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(writes, ['first\n'], 'lines within 200 ms of a write wait');
  await until(() => writes.length === 2, 2000, 'the coalesced write', 5);
  assert.ok(performance.now() - wroteAt >= 190, 'the next write waited for the rest of the 200 ms');
  assert.deepEqual(writes, ['first\n', 'second\nthird\n'], 'the waiting lines share one write, in order');
});

test('with coalesceMs flush() writes at once and no wait is left behind', async () => {
  const { stream, writes } = recorder();
  const log = new LogSink(stream, { stamp: () => 'T', coalesceMs: 200 });
  log.line('one');
  log.flush();
  log.line('two');
  log.flush();
  assert.deepEqual(writes, ['one\n', 'two\n']);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.deepEqual(writes, ['one\n', 'two\n'], 'nothing more was written');
});


test('stamp() is the ISO time, milliseconds included, across second boundaries', () => {
  const start = Date.UTC(2026, 11, 31, 23, 59, 58, 0);
  for (const offset of [0, 5, 5, 42, 999, 1000, 1001, 1999, 2000, 2007, 60_123, 86_400_000 + 3]) {
    const at = start + offset;
    assert.equal(stamp(at), new Date(at).toISOString(), `at +${offset} ms`);
  }
  assert.match(stamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});
