// The soak script, short: 30 seconds of the full client mix against event mode, with its verdict,
// CSV and chart. The long run is `npm run soak`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collect } from '../../helpers/cli.js';

const SOAK = fileURLToPath(new URL('../../../perf/soak/soak.js', import.meta.url));

test('a 30-second soak of event mode passes: nothing lost, no leak, descriptors back', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tcpecho-soak-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const child = spawn(process.execPath, [SOAK, '--mode', 'event', '--seconds', '30', '--out', `${out}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collect(child, null, 90_000, 'soak');
  const verdict = result.stdout.toString().trim();
  assert.equal(result.code, 0, `${verdict}\n${result.stderr}`);
  assert.match(verdict, /^soak PASS mode=event 30s: \d+ messages, [\d.]+ GiB verified, \d+ connections, 0 lost or corrupted; RSS /);
  const csv = readFileSync(join(out, 'soak-event.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'seconds,rss_mib,fds,messages_per_s');
  assert.ok(csv.length >= 15, `${csv.length - 1} samples`);
  const svg = readFileSync(join(out, 'soak-event.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>\n/);
  assert.match(svg, /<text [^>]*>tcpecho soak: event mode, 30 s<\/text>/);
  assert.equal(svg.match(/<polyline [^>]*stroke-width="2"[^>]*points="/g)?.length, 3, 'a line for each of RSS, descriptors, messages/s');
});
