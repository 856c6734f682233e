// Every JavaScript example in the README runs as written on the Node the package supports, and the
// README's flag tables are the option table's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { optionsMarkdown } from '../src/options/help.js';
import { COMMANDS } from '../src/options/table.js';
import { within } from './helpers/timeout.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
/** The manual's pages beside the README whose examples run too. */
const PAGES = ['README.md', 'docs/faults.md', 'docs/library.md', 'docs/transports.md', 'docs/operations.md'];

/** The ```js blocks of every page, each with the line it starts on. */
function examples(only?: string): Array<{ line: number; code: string; page: string }> {
  const found: Array<{ line: number; code: string; page: string }> = [];
  for (const page of only === undefined ? PAGES : [only]) {
    const text = readFileSync(`${ROOT}${page}`, 'utf8');
    const pattern = /^```js\n([\s\S]*?)^```$/gm;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      found.push({ line: text.slice(0, match.index).split('\n').length, code: match[1] as string, page });
    }
  }
  return found;
}

test('the README has a library example to run (the rest are in docs/)', () => {
  assert.ok(examples('README.md').length >= 1, `found ${examples('README.md').length}`);
});

for (const { line, code, page } of examples()) {
  test(`${page} example at line ${line} runs on this Node and exits 0`, async () => {
    // Inside the package, so that `import 'tcpecho'` resolves to this build by self-reference.
    const dir = `${ROOT}build/readme-examples`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/${page.replace(/\W/g, '-')}-line-${line}.mjs`;
    writeFileSync(file, code);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    try {
      const [code] = (await within(once(child, 'exit'), 20_000, `example at ${page} line ${line}`)) as [number | null];
      assert.equal(code, 0, stderr);
    } finally {
      child.kill('SIGKILL');
    }
  });
}

for (const command of COMMANDS) {
  test(`the README's flag table for \`${command}\` is the option table's (npm run readme:options writes it)`, () => {
    const begin = `<!-- options:${command} -->\n`;
    const end = `<!-- /options:${command} -->`;
    const start = README.indexOf(begin);
    assert.ok(start !== -1, `README has no ${begin.trim()} marker`);
    const table = README.slice(start + begin.length, README.indexOf(end, start));
    assert.equal(table, optionsMarkdown(command));
  });
}
