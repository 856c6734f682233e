// `npm run readme:options`: writes each subcommand's flag table into the README, between its
// `<!-- options:COMMAND -->` markers, from the option table.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { optionsMarkdown } from '../src/options/help.js';
import { COMMANDS } from '../src/options/table.js';

const file = fileURLToPath(new URL('../../README.md', import.meta.url));
let text = readFileSync(file, 'utf8');
for (const command of COMMANDS) {
  const pattern = new RegExp(`(<!-- options:${command} -->\\n)[\\s\\S]*?(<!-- /options:${command} -->)`);
  if (!pattern.test(text)) throw new Error(`README.md has no <!-- options:${command} --> ... <!-- /options:${command} --> markers`);
  text = text.replace(pattern, (_, begin: string, end: string) => `${begin}${optionsMarkdown(command)}${end}`);
}
writeFileSync(file, text);
