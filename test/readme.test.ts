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

/** The ```js blocks, each with the line it starts on. */
function examples(): Array<{ line: number; code: string }> {
  const found: Array<{ line: number; code: string }> = [];
  const pattern = /^```js\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(README); match !== null; match = pattern.exec(README)) {
    found.push({ line: README.slice(0, match.index).split('\n').length, code: match[1] as string });
  }
  return found;
}

test('the README has library examples to run', () => {
  assert.ok(examples().length >= 3, `found ${examples().length}`);
});

for (const { line, code } of examples()) {
  test(`README example at line ${line} runs on this Node and exits 0`, async () => {
    // Inside the package, so that `import 'tcpecho'` resolves to this build by self-reference.
    const dir = `${ROOT}build/readme-examples`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/line-${line}.mjs`;
    writeFileSync(file, code);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    try {
      const [code] = (await within(once(child, 'exit'), 20_000, `example at README line ${line}`)) as [number | null];
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
