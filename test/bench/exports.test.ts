// The load generator is its own entry point, `tcpecho/bench`: a program that imports `tcpecho` to
// serve or connect does not load the load generator's histogram library.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

/** The repository root, where 'tcpecho' resolves to the package itself (self-reference). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// Which files Node has loaded through its CommonJS loader (hdr-histogram-js is CommonJS): the same
// check after `tcpecho/bench` shows that it does see the library once it is loaded.
const PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const histogramLoaded = () => Object.keys(require.cache).some((file) => file.includes('/node_modules/hdr-histogram-js/'));
const main = await import('tcpecho');
const afterMain = histogramLoaded();
const bench = await import('tcpecho/bench');
console.log(JSON.stringify({
  afterMain,
  afterBench: histogramLoaded(),
  mainExports: Object.keys(main).filter((name) => /bench/i.test(name)),
  runBench: typeof bench.runBench,
  modes: bench.BENCH_MODES,
}));
`;

test("importing 'tcpecho' does not load hdr-histogram-js; 'tcpecho/bench' exports runBench", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], { cwd: ROOT, timeout: 15_000 });
  const seen = JSON.parse(stdout) as { afterMain: boolean; afterBench: boolean; mainExports: string[]; runBench: string; modes: string[] };
  assert.equal(seen.afterMain, false, "'tcpecho' loaded hdr-histogram-js");
  assert.deepEqual(seen.mainExports, [], "'tcpecho' still exports the load generator");
  assert.equal(seen.afterBench, true, 'the check does not see hdr-histogram-js even when it is loaded');
  assert.equal(seen.runBench, 'function');
  assert.deepEqual(seen.modes, ['pingpong', 'stream', 'connect']);
});

test('every entry of the exports map names built types and code', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  assert.ok('./bench' in pkg.exports, JSON.stringify(pkg.exports));
  for (const [entry, { types, default: code }] of Object.entries(pkg.exports)) {
    assert.ok(existsSync(new URL(types, `file://${ROOT}`)), `${entry}: no ${types}`);
    assert.ok(existsSync(new URL(code, `file://${ROOT}`)), `${entry}: no ${code}`);
  }
});
