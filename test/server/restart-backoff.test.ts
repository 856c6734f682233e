// The restart delay shared by fork mode's children and cluster mode's workers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartBackoff } from '../../src/server/restart-backoff.js';

test('the first failure restarts at once; later ones double from baseMs up to maxMs', () => {
  const backoff = new RestartBackoff({ baseMs: 100, maxMs: 1000 });
  const delays = Array.from({ length: 7 }, (_, i) => backoff.failure(i));
  assert.deepEqual(delays, [0, 100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoff.failures, 7);
});

test('defaults: 100 ms doubling to 5 s, nothing forgotten by time', () => {
  const backoff = new RestartBackoff();
  const delays = Array.from({ length: 10 }, (_, i) => backoff.failure(i * 1_000_000));
  assert.deepEqual(delays, [0, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
});

test('failures older than windowMs are forgotten', () => {
  const backoff = new RestartBackoff({ windowMs: 10_000 });
  assert.equal(backoff.failure(0), 0);
  assert.equal(backoff.failure(1000), 100);
  assert.equal(backoff.failure(2000), 200);
  // The first two are out of the window by now: this counts as the second failure.
  assert.equal(backoff.failure(11_500), 100);
  assert.equal(backoff.failures, 2);
});

test('reset() forgets every failure', () => {
  const backoff = new RestartBackoff();
  backoff.failure(0);
  backoff.failure(1);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.failure(2), 0);
});

test('memory stays bounded however many failures; the delay stays at its cap', () => {
  const backoff = new RestartBackoff({ maxMs: 300 });
  let last = 0;
  for (let i = 0; i < 10_000; i++) last = backoff.failure(i);
  assert.equal(last, 300);
  assert.ok(backoff.failures <= 32);
});
