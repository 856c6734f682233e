// Log lines are written together once per loop turn, in order, and flush() writes them at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineBuffer } from '../../src/cli/line-buffer.js';

test('lines queued in one turn go out in one write, in order', async () => {
  const writes: string[] = [];
  const buffer = new LineBuffer((text) => writes.push(text));
  buffer.line('a');
  buffer.line('b');
  buffer.line('c');
  assert.deepEqual(writes, []);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(writes, ['a\nb\nc\n']);
  buffer.line('d');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
});

test('flush() writes what is pending at once, and nothing when nothing is', () => {
  const writes: string[] = [];
  const buffer = new LineBuffer((text) => writes.push(text));
  buffer.flush();
  assert.deepEqual(writes, []);
  buffer.line('last words');
  buffer.flush();
  assert.deepEqual(writes, ['last words\n']);
});
