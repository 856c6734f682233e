// The soak chart: its CSV read back as written, and the SVG drawn from it (real text, a line per series).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSoakCsv, soakChart, soakCsv, type SoakRow } from '../../../perf/soak/chart.js';
import { collect } from '../../helpers/cli.js';

const REDRAW = fileURLToPath(new URL('../../../perf/soak/redraw.js', import.meta.url));
const ROWS: SoakRow[] = [
  { t: 1, rssMiB: 80.5, fds: 30, messagesPerS: 1200 },
  { t: 2, rssMiB: 96.25, fds: 41, messagesPerS: 5400 },
  { t: 3, rssMiB: 97, fds: 28, messagesPerS: 0 },
];

test('a soak CSV reads back as its rows (RSS to 0.1 MiB), and anything else is refused with its line', () => {
  const csv = soakCsv(ROWS);
  assert.equal(csv.split('\n')[0], 'seconds,rss_mib,fds,messages_per_s');
  assert.deepEqual(parseSoakCsv(csv), ROWS.map((r) => ({ ...r, rssMiB: Number(r.rssMiB.toFixed(1)) })));
  assert.throws(() => parseSoakCsv('t,rss\n1,2\n'), /not a soak CSV/);
  assert.throws(() => parseSoakCsv(`${csv}4.0,x,1,1\n`), /line 5 is malformed: 4\.0,x,1,1/);
});

test('the soak chart is an SVG with its title, a labelled panel and a line for each series, every point on the canvas', () => {
  const svg = soakChart('cluster', 3, ROWS);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="(\d+)" height="(\d+)"/);
  const [, width, height] = /width="(\d+)" height="(\d+)"/.exec(svg) as unknown as [string, string, string];
  assert.match(svg, />tcpecho soak: cluster mode, 3 s<\/text>/);
  assert.match(svg, />RSS, MiB \(server and its processes\) \(max 97\)<\/text>/);
  assert.match(svg, />messages\/s, every byte verified \(max 5400\)<\/text>/);
  const lines = [...svg.matchAll(/<polyline [^>]*stroke-width="2"[^>]*points="([^"]+)"/g)].map((m) => (m[1] as string).split(' ').map((p) => p.split(',').map(Number)));
  assert.equal(lines.length, 3);
  for (const points of lines) {
    assert.equal(points.length, ROWS.length);
    for (const [x, y] of points) assert.ok((x as number) >= 0 && (x as number) <= Number(width) && (y as number) >= 0 && (y as number) <= Number(height), `${x},${y}`);
  }
});

test('redraw writes the chart beside its CSV, and refuses a file that is not a soak CSV', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-redraw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'soak-fork.csv'), soakCsv(ROWS));
  const ok = await collect(spawn(process.execPath, [REDRAW, join(dir, 'soak-fork.csv')], { stdio: ['ignore', 'pipe', 'pipe'] }), null, 10_000, 'redraw');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readFileSync(join(dir, 'soak-fork.svg'), 'utf8'), soakChart('fork', 3, parseSoakCsv(soakCsv(ROWS))));
  writeFileSync(join(dir, 'soak-event.csv'), 'not,a,soak\n');
  const bad = await collect(spawn(process.execPath, [REDRAW, join(dir, 'soak-event.csv')], { stdio: ['ignore', 'pipe', 'pipe'] }), null, 10_000, 'redraw');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^redraw: .*soak-event\.csv: not a soak CSV/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});
