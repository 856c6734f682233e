// `tcpecho bench merge` end to end: results of the built CLI's runs, read from files, stdin, JSON
// lines and arrays; the report in text and JSON; every kind of bad input one line and exit 2.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test, type TestContext } from 'node:test';
import { mergeBenchResults, type BenchResult } from '../../src/bench/index.js';
import { runCli } from '../helpers/cli.js';
import { startEchoServer } from '../../src/index.js';
import { within } from '../helpers/timeout.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-merge-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Two `tcpecho bench --json` runs at once against one server, and a stream run: their output. */
let outputs: { a: string; b: string; stream: string } | undefined;

before(async () => {
  const server = await within(startEchoServer(), 10_000, 'startEchoServer');
  try {
    const args = (...more: string[]): string[] => ['bench', '127.0.0.1', String(server.address.port), '-d', '0.5', '--warmup', '0.1', '--json', ...more];
    const runs = await Promise.all([runCli(args('-c', '2')), runCli(args('-c', '3')), runCli(args('-m', 'stream', '-c', '1', '-s', '16k'))]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const [a, b, stream] = runs.map((run) => run.stdout.toString()) as [string, string, string];
    outputs = { a, b, stream };
  } finally {
    await within(server.destroy(), 10_000, 'server.destroy()');
  }
});

function benchOutputs(): { a: string; b: string; stream: string } {
  assert.ok(outputs !== undefined, 'the bench runs of before()');
  return outputs;
}

test('bench merge FILE FILE: the report of both runs, as text and as JSON, the same as mergeBenchResults', async (t) => {
  const { a, b } = benchOutputs();
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.json'), a);
  writeFileSync(join(dir, 'b.json'), b);
  const expected = mergeBenchResults([JSON.parse(a) as BenchResult, JSON.parse(b) as BenchResult]);

  const text = await runCli(['bench', 'merge', join(dir, 'a.json'), join(dir, 'b.json')]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stderr, '');
  const report = text.stdout.toString();
  assert.match(report, /^tcpecho bench: pingpong 127\.0\.0\.1:\d+, 5 connection\(s\), 1,024 B messages, pipeline 1, [\d.]+ s, 2 runs merged\n/);
  assert.ok(report.includes(`  messages      ${expected.messages.toLocaleString('en-US')}  (`), report);
  assert.ok(report.includes('errors        0'), report);

  const json = await runCli(['bench', 'merge', '--json', join(dir, 'a.json'), join(dir, 'b.json')]);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout.toString()), expected);
  assert.equal(expected.messages, (JSON.parse(a) as BenchResult).messages + (JSON.parse(b) as BenchResult).messages);
});

test('bench merge reads stdin (-), JSON lines and JSON arrays; a merged file merges again', async (t) => {
  const { a, b } = benchOutputs();
  const expected = mergeBenchResults([JSON.parse(a) as BenchResult, JSON.parse(b) as BenchResult]);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'all.jsonl'), `${a}${b}`);
  writeFileSync(join(dir, 'all-array.json'), JSON.stringify([JSON.parse(a), JSON.parse(b)], null, 2));
  writeFileSync(join(dir, 'b.json'), b);
  const cases = [[['-'], `${a}\n${b}`], [[join(dir, 'all.jsonl')], ''], [[join(dir, 'all-array.json')], ''], [['-', join(dir, 'b.json')], a]] as const;
  const runs = await Promise.all(cases.map(([args, input]) => runCli(['bench', 'merge', ...args, '--json'], { input })));
  for (const [i, [args]] of cases.entries()) {
    const run = runs[i] as Awaited<ReturnType<typeof runCli>>;
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    assert.deepEqual(JSON.parse(run.stdout.toString()), expected, args.join(' '));
  }
  // A merged result is a result: merged with nothing more it is itself.
  writeFileSync(join(dir, 'merged.json'), JSON.stringify(expected));
  const again = await runCli(['bench', 'merge', join(dir, 'merged.json'), '--json']);
  assert.deepEqual(JSON.parse(again.stdout.toString()), expected);
});

test('bench merge: bad input is one line and exit 2, naming the file and what is wrong', async (t) => {
  const { a, stream } = benchOutputs();
  const dir = tempDir(t);
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const good = file('a.json', a);
  const cases: Array<[string[], RegExp]> = [
    [[join(dir, 'missing.json')], /^tcpecho: Cannot read .*missing\.json: no such file \(ENOENT\)$/],
    [[dir], /^tcpecho: Cannot read .*: it is a directory \(EISDIR\)$/],
    [[file('bad.json', '{"mode": ')], /^tcpecho: .*bad\.json: not JSON \(/],
    [[good, file('lines.jsonl', `${a}not json\n`)], /^tcpecho: .*lines\.jsonl:2: not JSON \(/],
    [[file('empty.json', '\n')], /^tcpecho: .*empty\.json: empty, no bench result in it$/],
    [[file('ping.json', '{"summary":{"sent":3}}')], /^tcpecho: .*ping\.json: not a `tcpecho bench --json` result \(no `format`; from an older tcpecho\?\)$/],
    [[good, file('stream.json', stream)], /^tcpecho: Cannot merge .*stream\.json with .*a\.json: mode `stream`, not `pingpong`$/],
    [[good, good], /^tcpecho: Cannot merge .*a\.json with .*a\.json: both hold run [0-9a-f-]+ \(the same result given twice\?\)$/],
    [[], /^tcpecho: Expected at least one FILE of `tcpecho bench --json` results \(`-` for stdin\) \(see `tcpecho bench merge --help`\)$/],
    [['-', '-'], /^tcpecho: Expected `-` \(stdin\) at most once/],
    [['--threads', '2', good], /^tcpecho: Unknown option `--threads` \(see `tcpecho bench merge --help`\)$/],
  ];
  const runs = await Promise.all(cases.map(([args]) => runCli(['bench', 'merge', ...args], { input: '' })));
  for (const [i, [args, message]] of cases.entries()) {
    const run = runs[i] as Awaited<ReturnType<typeof runCli>>;
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout.length, 0);
    assert.equal(run.stderr.split('\n').filter((line) => line !== '').length, 1, run.stderr);
    assert.match(run.stderr.trimEnd(), message);
  }
});

test('bench merge exits 1 when the merged runs counted an error, as the runs did; --help exits 0', async (t) => {
  const { a } = benchOutputs();
  const dir = tempDir(t);
  const failed = JSON.parse(a) as BenchResult;
  const other = { ...failed, runs: ['another-run'], errors: { ...failed.errors, reset: 1 }, errorSamples: ['reset: ECONNRESET'] };
  writeFileSync(join(dir, 'a.json'), a);
  writeFileSync(join(dir, 'failed.json'), JSON.stringify(other));
  const run = await runCli(['bench', 'merge', join(dir, 'a.json'), join(dir, 'failed.json')]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout.toString(), /errors {8}1 {2}\(reset 1\)\n {4}reset: ECONNRESET\n/);
  const help = await runCli(['bench', 'merge', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /^Usage: tcpecho bench merge FILE\.\.\./);
  const benchHelp = await runCli(['bench', '--help']);
  assert.match(benchHelp.stdout.toString(), /tcpecho bench merge FILE\.\.\./);
});
