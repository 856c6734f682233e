// The option table drives the parser: every mistake is one line in our words, naming the flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine } from '../../src/options/command-line.js';
import { resolveOptions } from '../../src/options/resolve.js';
import { COMMANDS, OPTIONS, optionsOf } from '../../src/options/table.js';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'TCPECHO_ERR_USAGE', String(err));
    return (err as Error).message;
  }
  assert.fail('expected a usage error');
}

const MISTAKES: Array<[string, string[], string]> = [
  ['a negative port after its short flag', ['server', '-p', '-1'], 'Expected `--port` to be an integer from 0 to 65535, got `-1`'],
  ['a port out of range', ['server', '--port=70000'], 'Expected `--port` to be an integer from 0 to 65535, got `70000`'],
  ['an unknown long flag', ['server', '--verbose-ish'], 'Unknown option `--verbose-ish`'],
  ['an unknown short flag', ['client', '-x'], 'Unknown option `-x`'],
  ['a value for a flag that takes none', ['server', '--quiet=yes'], '`--quiet` takes no value, got `--quiet=yes`'],
  ['a flag without its value', ['bench', '-c'], '`--connections` needs a value (N)'],
  ['--workers outside cluster mode', ['server', '--workers', '2'], '`--workers` applies to `--mode cluster` only, not `--mode event`'],
  ['--max-children outside fork mode', ['server', '-m', 'cluster', '--max-children', '4'], '`--max-children` applies to `--mode fork` only, not `--mode cluster`'],
  ['--spare outside fork mode', ['server', '--spare', '1'], '`--spare` applies to `--mode fork` only, not `--mode event`'],
  ['--balance outside cluster mode', ['server', '-m', 'fork', '--balance', 'rr'], '`--balance` applies to `--mode cluster` only, not `--mode fork`'],
  ['--rate outside connect mode', ['bench', '--rate', '10'], '`--rate` applies to `--mode connect` only, not `--mode pingpong`'],
  ['--spare above --max-children', ['server', '-m', 'fork', '--max-children', '4', '--spare', '5'], 'Expected `--spare` (5) to be at most `--max-children` (4): spares count towards it'],
  ['--spare above the default --max-children', ['server', '-m', 'fork', '--spare', '65'], 'Expected `--spare` (65) to be at most `--max-children` (64): spares count towards it'],
  ['--duration with --messages', ['bench', '-d', '1', '-n', '5'], 'Give either `--duration` or `--messages`, not both'],
  ['a zero duration', ['bench', '-d', '0'], 'Expected `--duration` to be a number of seconds from 0.001 to 86400, got `0`'],
  ['a size with an unknown unit', ['bench', '-s', '1g'], 'Expected `--size` to be a size from 1 to 67108864 bytes (like 64, 1k, 64KiB, 1MiB), got `1g`'],
  ['a mode that does not exist', ['server', '-m', 'threads'], 'Expected `--mode` to be one of `event`, `fork`, `cluster`, got `threads`'],
  ['too many arguments', ['client', 'a', 'b', 'c'], 'Unexpected argument `c`'],
];

for (const [name, [command, ...args], message] of MISTAKES) {
  test(`${command}: ${name} is one usage error in our words`, () => {
    assert.equal(usageMessage(() => parseCommandLine(command as 'server', args, 2)), message);
  });
}

test('values reach the library in its units, with the command line defaults', () => {
  const { options, flags } = parseCommandLine('server', ['-qm', 'fork', '--idle-timeout', '1.5', '--spare=0'], 0);
  assert.equal(options.port, 7007);
  assert.equal(options.host, '*');
  assert.equal(options.mode, 'fork');
  assert.equal(options.idleTimeoutMs, 1500);
  assert.equal(options.spare, 0);
  assert.equal(options.maxConnections, 10_000);
  assert.equal(flags.quiet, true);
  const bench = parseCommandLine('bench', ['-s', '64KiB', '-c8', '-w', '2'], 2).options;
  assert.deepEqual([bench.size, bench.connections, bench.timeoutMs], [65_536, 8, 2000]);
});

test('a value that starts with a dash is a positional after --, and -4 is a flag', () => {
  const { positionals, flags } = parseCommandLine('client', ['-4', '--', '-1'], 2);
  assert.equal(flags.ipv4, true);
  assert.deepEqual(positionals, ['-1']);
});

test('the library checks the same table, naming its own keys', () => {
  assert.equal(usageMessage(() => resolveOptions('server', { workers: 2 })), '`workers` applies to mode `cluster` only, not `event`');
  assert.equal(usageMessage(() => resolveOptions('server', { idleTimeoutMs: -1 })), 'Expected `idleTimeoutMs` to be a whole number of milliseconds from 0 to 86400000, got `-1`');
  assert.equal(usageMessage(() => resolveOptions('server', { mode: 'fork', spare: 9, maxChildren: 8 })), 'Expected `spare` (9) to be at most `maxChildren` (8): spares count towards it');
  const values = resolveOptions('server', {});
  assert.equal(values.port, 0, 'the library picks a free port by default');
  assert.equal(values.host, '127.0.0.1');
});

// The one exception, kept on purpose (see `OptionSpec.short`): each after the tool its users know.
const TWO_MEANINGS = new Map([['c', ['connections', 'count']]]);

test('a short flag means one thing in every subcommand', () => {
  const meaning = new Map<string, string>();
  for (const spec of OPTIONS) {
    if (spec.short === undefined) continue;
    if (TWO_MEANINGS.get(spec.short)?.includes(spec.flag) === true) continue;
    const seen = meaning.get(spec.short);
    assert.ok(seen === undefined || seen === spec.flag, `-${spec.short} is --${seen ?? ''} and --${spec.flag}`);
    meaning.set(spec.short, spec.flag);
  }
});

test('no subcommand declares a flag twice', () => {
  for (const command of COMMANDS) {
    const flags = optionsOf(command).map((spec) => spec.flag);
    assert.deepEqual(flags, [...new Set(flags)], command);
  }
});
