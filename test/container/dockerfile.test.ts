// The Dockerfile without a container runtime (none can pull images on these machines): the
// stages are read from the file, the build stage is replayed from the context .dockerignore
// admits (tsc on those files alone), the runtime tree is assembled from its COPY lines, and then:
// its files equal `npm pack`'s, its ENTRYPOINT runs the built CLI, its HEALTHCHECK pings.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { startTestServer } from '../helpers/server.js';
import { collect } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  image: string;
  name: string | undefined;
  steps: Instruction[];
}

/** FROM-separated stages; continuation lines joined, comments dropped. */
function stages(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const result: Stage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [image = '', , name] = args.split(/\s+/);
      result.push({ image, name, steps: [] });
    } else {
      result.at(-1)?.steps.push({ op: op.toUpperCase(), args });
    }
  }
  return result;
}

const DOCKERFILE = stages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const RUNTIME = DOCKERFILE.at(-1) as Stage;

function stepsOf(stage: Stage, op: string): string[] {
  return stage.steps.filter((s) => s.op === op).map((s) => s.args);
}

/** The last WORKDIR of a stage. */
function workdir(stage: Stage): string {
  return stepsOf(stage, 'WORKDIR').at(-1) ?? '/';
}

/** `COPY [--from=X] SRC... DEST`. */
function copies(stage: Stage): Array<{ from: string | undefined; sources: string[]; dest: string }> {
  return stepsOf(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const from = words[0]?.startsWith('--from=') ? (words.shift() as string).slice('--from='.length) : undefined;
    const dest = words.pop() as string;
    return { from, sources: words, dest };
  });
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

/**
 * The build context as .dockerignore leaves it, for the patterns this one uses (`**`, `!NAME`,
 * `!DIR/**`), over the files git knows: the last matching pattern wins.
 */
function context(): Set<string> {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const matches = (pattern: string, file: string): boolean => {
    if (pattern === '**') return true;
    if (pattern.endsWith('/**')) return file.startsWith(pattern.slice(0, -2));
    assert.doesNotMatch(pattern, /[*?[]/, `a .dockerignore pattern this test does not read: ${pattern}`);
    return file === pattern || file.startsWith(`${pattern}/`);
  };
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => f !== '' && existsSync(join(ROOT, f)));
  return new Set(files.filter((file) => {
    let included = true;
    for (const p of patterns) if (p.startsWith('!') ? matches(p.slice(1), file) : matches(p, file)) included = p.startsWith('!');
    return included;
  }));
}

/** Copies `sources` (context paths) from the context into `to/dest` as COPY does (a directory's contents into DEST). */
function copyFromContext(ctx: Set<string>, sources: string[], to: string): void {
  for (const source of sources) {
    const files = [...ctx].filter((f) => f === source || f.startsWith(`${source}/`));
    assert.ok(files.length > 0, `COPY ${source}: not in the build context (.dockerignore)`);
    for (const file of files) {
      const target = file === source ? join(to, source.split('/').at(-1) as string) : join(to, relative(source, file));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(ROOT, file), target);
    }
  }
}

/**
 * Replays the build stage (its context COPYs, then tsc with this checkout's node_modules standing
 * in for `npm ci`) and assembles the runtime stage's tree; node_modules (the deps stage) is a
 * link to this checkout's. Returns the runtime's WORKDIR on disk.
 */
const WORK = mkdtempSync(join(tmpdir(), 'tcpecho-image-'));
after(() => rmSync(WORK, { recursive: true, force: true }));

function assemble(): string {
  const dir = WORK;
  const ctx = context();
  const build = DOCKERFILE.find((s) => s.name === 'build') as Stage;
  const buildDir = join(dir, 'build-stage', workdir(build));
  for (const c of copies(build)) copyFromContext(ctx, c.sources, join(buildDir, c.dest));
  symlinkSync(join(ROOT, 'node_modules'), join(buildDir, 'node_modules'));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: buildDir, encoding: 'utf8', timeout: 90_000 });
  assert.equal(tsc.status, 0, `the build stage's tsc failed: ${tsc.stdout}${tsc.stderr}`);
  const app = join(dir, 'runtime', workdir(RUNTIME));
  for (const c of copies(RUNTIME)) {
    if (c.from === undefined) copyFromContext(ctx, c.sources, join(app, c.dest));
    else if (c.from === 'build') for (const s of c.sources) cpSync(join(buildDir, relative(workdir(build), s)), join(app, c.dest), { recursive: true });
    else assert.deepEqual([c.from, c.sources], ['deps', ['/app/node_modules']], `an unexpected COPY --from=${c.from}`);
  }
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
  return app;
}

/** The runtime tree, assembled once for the tests of this file and removed after them. */
let image: string | undefined;
function runtimeTree(): string {
  image ??= assemble();
  return image;
}

test('Dockerfile: built on node:20, run on node:20-slim as the non-root node user, EXPOSE 7007, STOPSIGNAL SIGTERM, production deps only', () => {
  assert.equal(DOCKERFILE[0]?.image, 'node:20');
  assert.equal(RUNTIME.image, 'node:20-slim');
  const deps = DOCKERFILE.find((s) => s.name === 'deps') as Stage;
  assert.equal(deps.image, 'node:20-slim');
  assert.match(stepsOf(deps, 'RUN').join('\n'), /npm ci --omit=dev\b/);
  assert.deepEqual(stepsOf(RUNTIME, 'USER'), ['node']);
  assert.deepEqual(stepsOf(RUNTIME, 'EXPOSE'), ['7007']);
  assert.deepEqual(stepsOf(RUNTIME, 'STOPSIGNAL'), ['SIGTERM']);
  assert.deepEqual(stepsOf(RUNTIME, 'RUN'), [], 'the runtime stage runs nothing: it only copies');
});

test('Dockerfile: the runtime stage holds exactly the files of `npm pack --dry-run` (plus node_modules)', { timeout: 120_000 }, () => {
  const app = runtimeTree();
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ files: Array<{ path: string }> }>;
  const expected = (packed[0]?.files ?? []).map((f) => f.path).sort();
  assert.ok(expected.includes('build/src/cli/main.js'), 'npm pack lists no built CLI: build first');
  const actual = filesUnder(app).filter((f) => !f.startsWith('node_modules')).sort();
  assert.deepEqual(actual, expected);
});

test('Dockerfile: the ENTRYPOINT is the built CLI (the package bin), and runs from the runtime tree', { timeout: 120_000 }, () => {
  const entry = JSON.parse(stepsOf(RUNTIME, 'ENTRYPOINT')[0] ?? '[]') as string[];
  const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { tcpecho: string }; version: string });
  assert.deepEqual(entry, ['node', join(workdir(RUNTIME), bin.bin.tcpecho)]);
  assert.deepEqual(JSON.parse(stepsOf(RUNTIME, 'CMD')[0] ?? '[]'), ['server']);
  const app = runtimeTree();
  const version = spawnSync(process.execPath, [join(app, relative(workdir(RUNTIME), entry[1] as string)), '--version'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
});

test('Dockerfile: the HEALTHCHECK is `tcpecho ping -c 1 -W 1` on 7007; from the runtime tree it passes against a server and fails against none', { timeout: 120_000 }, async (t) => {
  const health = stepsOf(RUNTIME, 'HEALTHCHECK')[0] ?? '';
  const argv = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(health)?.[1] ?? '[]') as string[];
  assert.deepEqual(argv.slice(1), [join(workdir(RUNTIME), 'build/src/cli/main.js'), 'ping', '-c', '1', '-W', '1', '127.0.0.1:7007']);
  const app = runtimeTree();
  const cli = join(app, 'build/src/cli/main.js');
  const server = await startTestServer(t);
  // Not spawnSync: the server runs in this process's event loop.
  const up = await collect(spawn(process.execPath, [cli, 'ping', '-c', '1', '-W', '1', server.url]), '', 20_000, 'the health check');
  assert.equal(up.code, 0, up.stdout.toString() + up.stderr);
  const freed = net.createServer().listen(0, '127.0.0.1');
  await once(freed, 'listening');
  const { port } = freed.address() as net.AddressInfo;
  await new Promise((resolve) => freed.close(resolve));
  const down = spawnSync(process.execPath, [cli, 'ping', '-c', '1', '-W', '1', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(down.status, 1, down.stdout + down.stderr);
});

test('.dockerignore keeps node_modules, build output and git out of the context', () => {
  const ctx = context();
  for (const file of ctx) assert.doesNotMatch(file, /^(node_modules|build|\.git|test|perf)\//, file);
  assert.ok(ctx.has('src/cli/main.ts') && ctx.has('package-lock.json'));
});
