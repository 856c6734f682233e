// Each bench:compare run gets a file of its own under bench/results/: named by its minute, and
// never one that exists.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { minuteStamp, writeNewResultsFile } from '../../perf/results-file.js';

test('a results file is named by its UTC minute, and a second run of that minute gets a new name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-results-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const when = new Date('2026-12-01T10:30:59.999Z');
  assert.equal(minuteStamp(when), '2026-12-01T10-30');
  // A file someone wrote by hand under the first name: kept as it was.
  writeFileSync(join(dir, '2026-12-01T10-30-compare.md'), 'earlier run\n');
  const second = writeNewResultsFile(dir, 'compare', 'second\n', when);
  const third = writeNewResultsFile(dir, 'compare', 'third\n', when);
  assert.equal(second, join(dir, '2026-12-01T10-30-compare-2.md'));
  assert.equal(third, join(dir, '2026-12-01T10-30-compare-3.md'));
  assert.deepEqual(
    readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
    [['2026-12-01T10-30-compare-2.md', 'second\n'], ['2026-12-01T10-30-compare-3.md', 'third\n'], ['2026-12-01T10-30-compare.md', 'earlier run\n']],
  );
});
