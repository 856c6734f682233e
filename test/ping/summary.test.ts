// The probe payload, the byte check and the summary's arithmetic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstDifference, probePayload } from '../../src/ping/payload.js';
import { PingTally, TimeAccumulator } from '../../src/ping/summary.js';
import { ping, TcpechoError } from '../../src/index.js';

test('mdev is the population standard deviation, as ping computes it', () => {
  const times = new TimeAccumulator();
  assert.equal(times.stats(), undefined);
  for (const ms of [1, 2, 3, 4]) times.add(ms);
  const stats = times.stats();
  assert.deepEqual({ ...stats, mdev: Number(stats?.mdev.toFixed(6)) }, { count: 4, min: 1, avg: 2.5, max: 4, mdev: 1.118034 });
  const same = new TimeAccumulator();
  for (let i = 0; i < 3; i++) same.add(0.1);
  assert.equal(same.stats()?.mdev, 0);
});

test('loss counts every probe not echoed, by kind', () => {
  const tally = new PingTally();
  tally.add({ seq: 1, outcome: 'echoed', bytes: 64, connectMs: 1, echoMs: 2 });
  tally.add({ seq: 2, outcome: 'timeout', connectMs: 3 });
  tally.add({ seq: 3, outcome: 'refused' });
  assert.equal(tally.sent, 3);
  assert.equal(tally.echoed, 1);
  assert.equal(tally.lossPercent().toFixed(4), '66.6667');
  assert.equal(tally.failures.timeout, 1);
  assert.equal(tally.failures.refused, 1);
  assert.equal(tally.connect.stats()?.count, 2, 'a connection made by a probe that then timed out has a connect time');
  assert.equal(tally.echo.stats()?.count, 1);
});

test('every byte of a payload depends on its seq, and the check finds the first byte that differs', () => {
  const one = probePayload(1, 300);
  const two = probePayload(2, 300);
  for (let i = 0; i < 300; i++) assert.notEqual(one[i], two[i], `byte ${i}`);
  assert.equal(probePayload(7, 2).length, 2);
  assert.equal(firstDifference(one, one.subarray(0, 100), 0), -1);
  assert.equal(firstDifference(one, one.subarray(100), 100), -1);
  const bad = Buffer.from(one.subarray(100, 200));
  bad[12] = (bad[12] as number) ^ 1;
  assert.equal(firstDifference(one, bad, 100), 112);
  assert.equal(firstDifference(one, Buffer.concat([one.subarray(250), Buffer.from([0])]), 250), 300, 'a byte past the end was never sent');
});

test('ping() checks its options through the option table and needs a count or a signal', async () => {
  const codeOf = async (options: object): Promise<string> => {
    try {
      await ping(options);
    } catch (err) {
      assert.ok(err instanceof TcpechoError);
      return `${err.code}: ${err.message}`;
    }
    return 'resolved';
  };
  assert.equal(await codeOf({ port: 1 }), 'TCPECHO_ERR_USAGE: Give `count` or `signal`: without either, ping never ends');
  assert.equal(await codeOf({ count: 0 }), 'TCPECHO_ERR_USAGE: Expected `count` to be an integer from 1 to 9007199254740991, got `0`');
  assert.equal(await codeOf({ count: 1, intervalMs: 5 }), 'TCPECHO_ERR_USAGE: Expected `intervalMs` to be a whole number of milliseconds from 10 to 86400000, got `5`');
  assert.equal(await codeOf({ count: 1, port: 70_000 }), 'TCPECHO_ERR_USAGE: Expected `port` to be an integer from 0 to 65535, got `70000`');
});
