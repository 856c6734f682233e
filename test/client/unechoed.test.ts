// The record of sent-but-not-echoed bytes that the pipe client checks each echo against.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { UnechoedBytes } from '../../src/client/unechoed.js';

test('an echo split differently from the sends matches all of it', () => {
  const data = randomBytes(10_000);
  const unechoed = new UnechoedBytes();
  // Sent in pieces of 1, 7, 100, ... bytes; echoed back in pieces of 13.
  for (let at = 0, size = 1; at < data.length; at += size, size = size * 7 + 1) unechoed.push(data.subarray(at, at + size));
  assert.equal(unechoed.length, data.length);
  for (let at = 0; at < data.length; at += 13) {
    const echo = data.subarray(at, at + 13);
    assert.equal(unechoed.consume(echo), echo.length, `at ${at}`);
  }
  assert.equal(unechoed.length, 0);
  assert.equal(unechoed.peek(), undefined);
});

test('a differing byte stops the match there, and peek() is the byte that was sent', () => {
  const unechoed = new UnechoedBytes();
  unechoed.push(Buffer.from('12'));
  unechoed.push(Buffer.from('345hello'));
  assert.equal(unechoed.consume(Buffer.from('1234')), 4);
  assert.equal(unechoed.consume(Buffer.from('5HELLO')), 1);
  assert.equal(unechoed.peek(), 'h'.charCodeAt(0));
  assert.equal(unechoed.length, 5);
});

test('bytes never sent do not match', () => {
  const unechoed = new UnechoedBytes();
  unechoed.push(Buffer.from('ab'));
  assert.equal(unechoed.consume(Buffer.from('abc')), 2);
  assert.equal(unechoed.peek(), undefined);
  assert.equal(unechoed.consume(Buffer.from('x')), 0);
});

test('many tiny sends consumed one by one keep working past the queue compaction', () => {
  const unechoed = new UnechoedBytes();
  const data = randomBytes(5000);
  for (const byte of data) unechoed.push(Buffer.from([byte]));
  for (let i = 0; i < data.length; i++) {
    assert.equal(unechoed.consume(data.subarray(i, i + 1)), 1);
    if (i === 2500) unechoed.push(Buffer.from('tail'));
  }
  assert.equal(unechoed.consume(Buffer.from('tail')), 4);
  assert.equal(unechoed.length, 0);
});
