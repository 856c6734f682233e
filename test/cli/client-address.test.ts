// The address forms of `tcpecho client` end to end, through the built CLI, inside a network
// namespace with only loopback up: an address read wrongly fails there instead of reaching
// another machine (today's `client 9000` once sent a connection to 0.0.35.40).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { collect } from '../helpers/cli.js';
import type { CaseResult } from '../client/netns-driver.js';

const DRIVER = fileURLToPath(new URL('../client/netns-driver.js', import.meta.url));

function missing(command: string, versionFlag: string): boolean {
  return (spawnSync(command, [versionFlag]).error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

const skip = missing('unshare', '--version')
  ? 'util-linux `unshare` is not installed'
  : missing('ip', '-V')
    ? 'iproute2 `ip` is not installed'
    : false;

/** Each case with the listeners it may reach (`localhost` may resolve to either loopback). */
const CASES: [string[], string[]][] = [
  [[], ['127.0.0.1:7007', '[::1]:7007']],
  [['9000'], ['127.0.0.1:9000', '[::1]:9000']],
  [['-v', '9000'], ['127.0.0.1:9000', '[::1]:9000']],
  [['127.0.0.1', '9000'], ['127.0.0.1:9000']],
  [['127.0.0.1:9000'], ['127.0.0.1:9000']],
  [['localhost:9000', '-4'], ['127.0.0.1:9000']],
  [['::1'], ['[::1]:7007']],
  [['::1', '9000'], ['[::1]:9000']],
  [['[::1]', '9000'], ['[::1]:9000']],
  [['[::1]:9000', '-6'], ['[::1]:9000']],
];

test('every address form reaches the listener it names, inside a loopback-only namespace', { skip }, async () => {
  const child = spawn(
    'unshare',
    ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, DRIVER, JSON.stringify(CASES.map(([args]) => args))],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const run = await collect(child, null, 90_000, 'client address cases in a network namespace');
  assert.equal(run.code, 0, run.stderr);
  const results = JSON.parse(run.stdout.toString()) as CaseResult[];
  assert.equal(results.length, CASES.length);
  for (const [i, [args, allowed]] of CASES.entries()) {
    const result = results[i] as CaseResult;
    const what = `tcpecho client ${args.join(' ')}: ${JSON.stringify(result)}`;
    assert.equal(result.code, 0, what);
    assert.equal(result.stdout, 'ping', what);
    assert.equal(result.reached.length, 1, what);
    assert.ok(allowed.includes(result.reached[0] as string), what);
  }
});
