// deploy/systemd: both units pass `systemd-analyze verify` (Debian's systemd package), and say
// what the deployment promises (socket activation, the sandbox, a stop timeout above the drain).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { CLI } from '../helpers/cli.js';

const UNITS = fileURLToPath(new URL('../../../deploy/systemd/', import.meta.url));
const noVerify = spawnSync('systemd-analyze', ['--version']).status !== 0 && 'systemd-analyze (Debian package systemd) is not installed';

/** The units in a temporary directory, ExecStart's /usr/local/bin/tcpecho rewritten to this build (verify checks the program exists). */
function unitsHere(t: TestContext, edit: (service: string) => string = (s) => s): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcpecho-units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(UNITS, 'tcpecho.socket'), join(dir, 'tcpecho.socket'));
  const service = readFileSync(join(UNITS, 'tcpecho.service'), 'utf8');
  assert.match(service, /^ExecStart=\/usr\/local\/bin\/tcpecho server /m);
  writeFileSync(join(dir, 'tcpecho.service'), edit(service.replace(/^ExecStart=\/usr\/local\/bin\/tcpecho /m, `ExecStart=${process.execPath} ${CLI} `)));
  return dir;
}

function verify(dir: string): { status: number | null; stderr: string } {
  const result = spawnSync('systemd-analyze', ['verify', join(dir, 'tcpecho.socket'), join(dir, 'tcpecho.service')], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stderr: result.stderr };
}

test('systemd-analyze verify: tcpecho.socket and tcpecho.service, no complaint', { skip: noVerify }, (t) => {
  const result = verify(unitsHere(t));
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '');
});

test('systemd-analyze verify complains about a misspelt directive (the check above can fail)', { skip: noVerify }, (t) => {
  const result = verify(unitsHere(t, (s) => s.replace(/^KillMode=mixed$/m, 'KillMod=mixed')));
  assert.match(result.stderr, /Unknown key 'KillMod'/);
});

/** `Key=value` of one section, the last one winning. */
function section(text: string, name: string): Map<string, string> {
  const body = text.split(/^\[/m).find((part) => part.startsWith(`${name}]`)) ?? '';
  return new Map(body.split('\n').filter((line) => /^\w+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]));
}

test('the units: socket-activated on 7007, sandboxed, SIGTERM to tcpecho, TimeoutStopSec above --drain-timeout and the kill grace', () => {
  const socket = section(readFileSync(join(UNITS, 'tcpecho.socket'), 'utf8'), 'Socket');
  assert.equal(socket.get('ListenStream'), '7007');
  assert.equal(socket.get('Accept'), 'no');
  const service = section(readFileSync(join(UNITS, 'tcpecho.service'), 'utf8'), 'Service');
  for (const [key, value] of Object.entries({
    Type: 'simple', DynamicUser: 'yes', NoNewPrivileges: 'yes', ProtectSystem: 'strict', PrivateTmp: 'yes',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX', KillSignal: 'SIGTERM', KillMode: 'mixed',
  })) assert.equal(service.get(key), value, key);
  const exec = service.get('ExecStart') ?? '';
  assert.doesNotMatch(exec, / (--port|-p|--host|-H|--unix) /, 'the service must not bind an address of its own');
  const drain = Number(/--drain-timeout (\d+(?:\.\d+)?)/.exec(exec)?.[1]);
  assert.ok(drain > 0, 'ExecStart names --drain-timeout');
  // The cluster primary SIGKILLs workers 2 s past the drain timeout (cluster-mode.ts KILL_GRACE_MS).
  assert.ok(Number(service.get('TimeoutStopSec')) > drain + 2, `TimeoutStopSec ${service.get('TimeoutStopSec')} is not above ${drain} + 2 s`);
});
