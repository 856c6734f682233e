// `tcpecho ping` end to end, the built CLI against real servers on loopback: a tcpecho server, a
// closed port, and small misbehaving servers (one that never echoes, one that holds each chunk,
// one that corrupts a byte).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { CLI, collect, runCli, type CliResult } from '../helpers/cli.js';
import { freePort, listenOnLoopback, startTestServer } from '../helpers/server.js';
import { stuckPort } from '../helpers/stuck-server.js';
import { within } from '../helpers/timeout.js';
import type { PingResult } from '../../src/index.js';

const ECHOED = /^64 bytes from 127\.0\.0\.1:(\d+): seq=(\d+)(?: connect=(\d+\.\d{2}) ms)? echo=(\d+\.\d{2}) ms$/;
const SUMMARY_TIMES = /^(connect|echo) min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/;

function linesOf(result: CliResult): string[] {
  return result.stdout.toString().trimEnd().split('\n');
}

/** A plain net.Server whose connections `onConnection` handles (with an error listener already on). */
async function rawServer(t: TestContext, onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  t.after(() => server.close());
  return listenOnLoopback(t, server);
}


test('against a tcpecho server: one line per probe with connect and echo times, the summary, exit 0', async (t) => {
  const server = await startTestServer(t);
  const port = server.address.port;
  const result = await runCli(['ping', '127.0.0.1', String(port), '-c', '3', '-i', '0.05']);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0);
  const lines = linesOf(result);
  assert.equal(lines.length, 7, lines.join('\n'));
  for (const [i, line] of lines.slice(0, 3).entries()) {
    const match = ECHOED.exec(line);
    assert.ok(match, line);
    assert.equal(match[1], String(port));
    assert.equal(match[2], String(i + 1));
    assert.ok(match[3] !== undefined, `a new connection per probe: ${line}`);
  }
  assert.equal(lines[3], `--- 127.0.0.1:${port} tcpecho ping statistics ---`);
  assert.equal(lines[4], '3 probes sent, 3 echoed, 0% loss');
  assert.match(lines[5] as string, SUMMARY_TIMES);
  assert.match(lines[6] as string, /^echo /);
});

test('a closed port: every probe refused, exit 1', async () => {
  const port = await freePort();
  const result = await runCli(['ping', `127.0.0.1:${port}`, '-c', '2', '-i', '0.05']);
  assert.equal(result.code, 1);
  assert.deepEqual(linesOf(result), [
    'seq=1 refused',
    'seq=2 refused',
    `--- 127.0.0.1:${port} tcpecho ping statistics ---`,
    '2 probes sent, 0 echoed, 100% loss (2 refused)',
  ]);
});

test('a server that reads and never echoes: every probe times out after -W, exit 1', async (t) => {
  let connections = 0;
  const port = await rawServer(t, (socket) => {
    connections++;
    socket.resume();
  });
  const started = Date.now();
  const result = await runCli(['ping', String(port), '-c', '2', '-i', '0.05', '-W', '0.5']);
  assert.equal(result.code, 1);
  assert.deepEqual(linesOf(result).slice(0, 2), ['seq=1 timeout', 'seq=2 timeout']);
  assert.equal(linesOf(result)[3], '2 probes sent, 0 echoed, 100% loss (2 timeout)');
  // The probes connected: the summary has connect times and no echo times.
  assert.match(linesOf(result)[4] as string, /^connect /);
  assert.equal(linesOf(result).length, 5);
  assert.equal(connections, 2);
  assert.ok(Date.now() - started >= 1000, 'two probes of at least 0.5 s each');
});

test('a connect that never completes is a timeout at -W', async (t) => {
  const port = await stuckPort(t);
  const result = await runCli(['ping', String(port), '-c', '1', '-W', '0.3']);
  assert.equal(result.code, 1);
  assert.deepEqual(linesOf(result), ['seq=1 timeout', `--- 127.0.0.1:${port} tcpecho ping statistics ---`, '1 probes sent, 0 echoed, 100% loss (1 timeout)']);
});

test('-6 with a lone port probes [::1]', async (t) => {
  const server = await startTestServer(t, { host: '::1' });
  const result = await runCli(['ping', '-6', String(server.address.port), '-c', '1']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(linesOf(result)[0] as string, new RegExp(`^64 bytes from \\[::1\\]:${server.address.port}: seq=1 connect=`));
});

test('a server that holds each chunk 50 ms: every echo time is at least 50 ms', async (t) => {
  const port = await rawServer(t, (socket) => {
    // 51 ms: Node's timers may fire up to a millisecond early by the clock the client measures with.
    socket.on('data', (chunk: Buffer) => setTimeout(() => socket.write(chunk), 51));
    socket.on('end', () => setTimeout(() => socket.end(), 60));
  });
  const result = await runCli(['ping', String(port), '-c', '3', '-i', '0.01']);
  assert.equal(result.code, 0, result.stderr);
  const echoes = linesOf(result).slice(0, 3).map((line) => Number(ECHOED.exec(line)?.[4]));
  assert.equal(echoes.length, 3);
  for (const ms of echoes) assert.ok(ms >= 50, `echo ${ms} ms`);
});

test('a server that corrupts byte 12 of the second connection: that probe is a mismatch, exit 1', async (t) => {
  let connections = 0;
  const port = await rawServer(t, (socket) => {
    const corrupt = ++connections === 2;
    let offset = 0;
    socket.on('data', (chunk: Buffer) => {
      const copy = Buffer.from(chunk);
      if (corrupt && offset <= 12 && 12 < offset + copy.length) copy[12 - offset] = (copy[12 - offset] as number) ^ 0x20;
      offset += copy.length;
      socket.write(copy);
    });
    socket.on('end', () => socket.end());
  });
  const result = await runCli(['ping', String(port), '-c', '3', '-i', '0.01']);
  assert.equal(result.code, 1, 'a mismatch fails the run although other probes were echoed');
  const lines = linesOf(result);
  assert.match(lines[0] as string, ECHOED);
  assert.equal(lines[1], 'seq=2 mismatch at byte 12');
  assert.match(lines[2] as string, ECHOED);
  assert.equal(lines[4], '3 probes sent, 2 echoed, 33.3% loss (1 mismatch)');
});

test('a server that closes before echoing everything: `closed after N bytes`', async (t) => {
  const port = await rawServer(t, (socket) => {
    socket.once('data', (chunk: Buffer) => socket.end(chunk.subarray(0, 10)));
  });
  const result = await runCli(['ping', String(port), '-c', '1']);
  assert.equal(result.code, 1);
  assert.equal(linesOf(result)[0], 'seq=1 closed after 10 bytes');
});

test('a server that resets each connection: `reset`', async (t) => {
  const port = await rawServer(t, (socket) => {
    socket.once('data', () => socket.resetAndDestroy());
  });
  const result = await runCli(['ping', String(port), '-c', '2', '-i', '0.01']);
  assert.equal(result.code, 1);
  assert.deepEqual(linesOf(result).slice(0, 2), ['seq=1 reset', 'seq=2 reset']);
});

test('--json: one JSON object with the summary and every probe, nothing else', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['ping', String(server.address.port), '-c', '3', '-i', '0.01', '-s', '1k', '--json']);
  assert.equal(result.code, 0);
  assert.equal(result.stdout.toString().split('\n').length, 2, 'one line and its newline');
  const report = JSON.parse(result.stdout.toString()) as PingResult;
  assert.equal(report.target, `127.0.0.1:${server.address.port}`);
  assert.equal(report.size, 1024);
  assert.equal(report.sent, 3);
  assert.equal(report.echoed, 3);
  assert.equal(report.lossPercent, 0);
  assert.equal(report.interrupted, false);
  assert.deepEqual(report.probes.map((p) => [p.seq, p.outcome]), [[1, 'echoed'], [2, 'echoed'], [3, 'echoed']]);
  assert.equal(report.echo?.count, 3);
  assert.equal(report.connect?.count, 3);
  const echoes = report.probes.map((p) => (p.outcome === 'echoed' ? p.echoMs : NaN));
  assert.equal(report.echo?.min, Math.min(...echoes));
  assert.equal(report.echo?.max, Math.max(...echoes));
});

test('--keep: the server sees one connection; only the first probe has a connect time', async (t) => {
  const server = await startTestServer(t);
  let connections = 0;
  server.on('connection', () => connections++);
  const result = await runCli(['ping', String(server.address.port), '-c', '4', '-i', '0.01', '--keep']);
  assert.equal(result.code, 0, result.stderr);
  const lines = linesOf(result);
  const connects = lines.slice(0, 4).map((line) => ECHOED.exec(line)?.[3]);
  assert.ok(connects[0] !== undefined, lines[0]);
  assert.deepEqual(connects.slice(1), [undefined, undefined, undefined], lines.join('\n'));
  assert.match(lines[6] as string, /^connect min\/avg\/max\/mdev = (\d+\.\d{3})\/\1\/\1\/0\.000 ms$/);
  assert.equal(connections, 1);
});

test('--keep after a failed probe: the connection is closed and the next probe opens another', async (t) => {
  let connections = 0;
  const port = await rawServer(t, (socket) => {
    // The first connection echoes one probe, then holds the second forever; later ones echo.
    const first = ++connections === 1;
    let chunks = 0;
    socket.on('data', (chunk: Buffer) => {
      if (!first || ++chunks === 1) socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  });
  const result = await runCli(['ping', String(port), '-c', '3', '-i', '0.01', '-W', '0.3', '--keep']);
  const lines = linesOf(result);
  assert.equal(result.code, 0, lines.join('\n'));
  assert.match(lines[0] as string, /seq=1 connect=/);
  assert.equal(lines[1], 'seq=2 timeout');
  assert.match(lines[2] as string, /seq=3 connect=/);
  assert.equal(connections, 2);
});

test('-q: only the summary', async (t) => {
  const server = await startTestServer(t);
  const result = await runCli(['ping', String(server.address.port), '-qc', '2', '-i', '0.01']);
  assert.equal(result.code, 0);
  const lines = linesOf(result);
  assert.equal(lines.length, 4, lines.join('\n'));
  assert.equal(lines[0], `--- 127.0.0.1:${server.address.port} tcpecho ping statistics ---`);
  assert.equal(lines[1], '2 probes sent, 2 echoed, 0% loss');
});

test('without -c it runs until SIGINT, then prints the summary and exits 0', async (t) => {
  const server = await startTestServer(t);
  const child = spawn(process.execPath, [CLI, 'ping', String(server.address.port), '-i', '0.02'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let seen = '';
  const twoLines = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').length > 2) resolve();
    });
  });
  const done = collect(child, undefined, 10_000, 'tcpecho ping until SIGINT');
  await within(twoLines, 10_000, 'two probe lines');
  child.kill('SIGINT');
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  const lines = seen.trimEnd().split('\n');
  const summary = lines.findIndex((line) => line.startsWith('--- '));
  assert.ok(summary >= 2, seen);
  assert.ok(lines.slice(0, summary).every((line) => ECHOED.test(line)), seen);
  assert.equal(lines[summary + 1], `${summary} probes sent, ${summary} echoed, 0% loss`);
});

test('usage errors: one line, exit 2; -w is not ping\'s timeout', async () => {
  for (const [args, message] of [
    [['-c', '0'], 'Expected `--count` to be an integer from 1 to 9007199254740991, got `0`'],
    [['-i', '0.001'], 'Expected `--interval` to be a number of seconds from 0.01 to 86400, got `0.001`'],
    [['-W', 'soon'], 'Expected `--probe-timeout` to be a number of seconds from 0.01 to 86400, got `soon`'],
    [['-w', '1'], 'Unknown option `-w`'],
    [['127.0.0.1', '70000'], 'Expected `PORT` to be an integer from 0 to 65535, got `70000`'],
  ] as const) {
    // `-c 1` first: the last value of a flag wins.
    const result = await runCli(['ping', '-c', '1', ...args]);
    assert.equal(result.code, 2, args.join(' '));
    assert.equal(result.stderr, `tcpecho: ${message} (see \`tcpecho ping --help\`)\n`);
    assert.equal(result.stdout.length, 0);
  }
});

// The same outcomes from tcpecho's own faults (the server's `faults` option); a delay of 51 ms for
// the same reason as the holding server's.
test('faults: stallAfter 0 gives timeouts, delayMs 51 echo times of at least 50 ms, closeAfter and resetAfter their lines', async (t) => {
  const cases = [
    { faults: { stallAfter: 0 }, args: ['-c', '2', '-W', '0.5'], code: 1, first: /^seq=1 timeout$/ },
    { faults: { delayMs: 51 }, args: ['-c', '2'], code: 0, first: ECHOED },
    { faults: { closeAfter: 10 }, args: ['-c', '1'], code: 1, first: /^seq=1 closed after 10 bytes$/ },
    { faults: { resetAfter: 0 }, args: ['-c', '1'], code: 1, first: /^seq=1 reset$/ },
  ];
  for (const { faults, args, code, first } of cases) {
    const server = await startTestServer(t, { faults });
    const result = await runCli(['ping', String(server.address.port), '-i', '0.01', ...args]);
    const lines = linesOf(result);
    assert.equal(result.code, code, `${JSON.stringify(faults)}: ${lines.join('\n')}`);
    assert.match(lines[0] as string, first, JSON.stringify(faults));
    if (faults.delayMs !== undefined) {
      for (const line of lines.slice(0, 2)) assert.ok(Number(ECHOED.exec(line)?.[4]) >= 50, line);
    }
  }
});
