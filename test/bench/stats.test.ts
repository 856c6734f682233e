// The run's counters: latencies are counted in a plain array below 65,536 µs and in the
// HdrHistogram above, and read back as one histogram.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stats } from '../../src/bench/stats.js';

test('latencies on both sides of the fine-count limit come back as one histogram, each once', () => {
  const stats = new Stats();
  stats.recordMessage(5); // before the window: not counted
  stats.startWindow();
  for (let i = 0; i < 99; i++) stats.recordMessage(0.25); // 250 µs
  stats.recordMessage(100); // 100,000 µs, past the fine counts
  stats.recordMessage(0.0001); // rounds to 0: counted as 1 µs
  let h = stats.latencyUs();
  assert.equal(h.totalCount, 101);
  assert.equal(h.minNonZeroValue, 1);
  assert.equal(h.getValueAtPercentile(50), 250);
  assert.ok(Math.abs(h.maxValue - 100_000) <= 100, `max ${h.maxValue}`);
  // Reading again does not fold the fine counts in a second time; later values still count.
  stats.recordMessage(0.25);
  h = stats.latencyUs();
  assert.equal(h.totalCount, 102);
  assert.equal(stats.messages, 102);
  // A new window starts from nothing, fine counts included.
  stats.recordMessage(0.5);
  stats.startWindow();
  assert.equal(stats.latencyUs().totalCount, 0);
});

test('the window measures the CPU the process spends in it', () => {
  const stats = new Stats();
  stats.startWindow();
  // Busy until the process has used 50 ms of CPU, however long other processes keep the core: a
  // wall-clock spin measured less than that on a shared machine.
  const start = process.cpuUsage();
  const deadline = performance.now() + 10_000;
  let used = 0;
  while (used < 50_000 && performance.now() < deadline) {
    const spent = process.cpuUsage(start);
    used = spent.user + spent.system;
  }
  stats.endWindow();
  assert.ok(used >= 50_000, `only ${used} µs of CPU in 10 s`);
  assert.ok(stats.cpuUs.user + stats.cpuUs.system >= used, JSON.stringify(stats.cpuUs));
});
