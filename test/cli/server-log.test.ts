// The log's time stamps: the ISO time of every millisecond, across second, minute and day
// boundaries, however the calls fall.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stamp } from '../../src/cli/server-log.js';

test('stamp() is the ISO time, milliseconds included, across second boundaries', () => {
  const start = Date.UTC(2026, 11, 31, 23, 59, 58, 0);
  for (const offset of [0, 5, 5, 42, 999, 1000, 1001, 1999, 2000, 2007, 60_123, 86_400_000 + 3]) {
    const at = start + offset;
    assert.equal(stamp(at), new Date(at).toISOString(), `at +${offset} ms`);
  }
  assert.equal(stamp(0), '1970-01-01T00:00:00.000Z', 'the epoch itself');
  assert.match(stamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});
