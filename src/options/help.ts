import { defaultOf } from './resolve.js';
import { optionsOf, type Command, type OptionSpec } from './table.js';

const WIDTH = 96;
const FLAG_COLUMN = 28;

/** The `Options:` section of a subcommand's `--help`, from the option table. */
export function optionsHelp(command: Command): string {
  const lines = ['Options:'];
  for (const spec of optionsOf(command)) {
    const flag = `  ${flagText(spec)}`;
    const text = `${spec.help}${suffix(spec)}`.replace(/`/g, '');
    const wrapped = wrap(text, WIDTH - FLAG_COLUMN);
    const first = flag.length < FLAG_COLUMN ? flag.padEnd(FLAG_COLUMN) + (wrapped[0] ?? '') : `${flag}\n${' '.repeat(FLAG_COLUMN)}${wrapped[0] ?? ''}`;
    lines.push(first, ...wrapped.slice(1).map((line) => ' '.repeat(FLAG_COLUMN) + line));
  }
  return `${lines.join('\n')}\n`;
}

/** The library column, default and meaning of the README row that stands for a group of options. */
const GROUP_ROWS: Record<NonNullable<OptionSpec['group']>, (members: OptionSpec[]) => string> = {
  faults: () => '`faults` | – | faults on the echo, one example each in [Testing your client](#testing-your-client-faults) (`--help` says what each does)',
  'tls-client': (members) =>
    `\`tls\`: ${members.map((one) => `\`${one.key}\``).join(', ')} | – | how the server's certificate is verified (` +
    `${members.some((one) => one.key === 'fingerprint') ? '`--fingerprint` pins it, ' : ''}\`--ca\` trusts those CAs, \`--insecure\` checks nothing; each implies \`--tls\`)` +
    `${members.some((one) => one.key === 'cert') ? ', `--servername` (SNI), `--cert`/`--key` for mutual TLS' : ''}: [docs/transports.md](docs/transports.md#tls)`,
};

/**
 * The README's flag table of a subcommand, from the option table: a test checks that the README
 * holds exactly this between `<!-- options:COMMAND -->` markers (`npm run readme:options` writes it).
 */
export function optionsMarkdown(command: Command): string {
  const rows = ['| flag | library option | default | meaning |', '|---|---|---|---|'];
  const grouped = new Set<string>();
  for (const spec of optionsOf(command)) {
    if (spec.flag === 'help' || spec.flag === 'version') continue;
    if (spec.group !== undefined) {
      if (grouped.has(spec.group)) continue;
      grouped.add(spec.group);
      const members = optionsOf(command).filter((one) => one.group === spec.group);
      rows.push(`| ${members.map((one) => `\`${flagText(one).trim()}\``).join(', ')} | ${GROUP_ROWS[spec.group](members)} |`);
      continue;
    }
    const library = spec.libraryText ?? (spec.cliOnly === true ? '–' : `\`${spec.key}\``);
    rows.push(`| \`${flagText(spec).trim()}\` | ${library} | ${defaultText(spec, true) ?? '–'} | ${spec.help}${modesText(spec) === '' ? '' : ` (${modesText(spec)})`} |`);
  }
  rows.push('| `-h, --help`, `-V, --version` | – | | help, version |');
  return `${rows.join('\n')}\n`;
}

function flagText(spec: OptionSpec): string {
  const long = spec.arg === undefined ? `--${spec.flag}` : `--${spec.flag} ${spec.arg}`;
  return spec.short === undefined ? `    ${long}` : `-${spec.short}, ${long}`;
}

function modesText(spec: OptionSpec): string {
  return spec.modes === undefined ? '' : `--mode ${spec.modes.join(' or ')} only`;
}

/** ` (--mode fork only; default 64)` */
function suffix(spec: OptionSpec): string {
  const parts = [modesText(spec)];
  const text = defaultText(spec, false);
  if (text !== undefined) parts.push(`default ${text}`);
  const shown = parts.filter((part) => part !== '');
  return shown.length === 0 ? '' : ` (${shown.join('; ')})`;
}

/** The default as the command line sees it: seconds in seconds, the CLI's own where it differs. */
function defaultText(spec: OptionSpec, markdown: boolean): string | undefined {
  const value = spec.cliDefault ?? defaultOf(spec);
  if (spec.defaultText === undefined && (value === undefined || spec.kind === 'flag')) return undefined;
  const seconds = spec.kind === 'seconds' && spec.defaultText === undefined;
  const shown = spec.defaultText ?? (seconds ? `${Number(value) / 1000}${markdown ? ' s' : ''}` : String(value));
  if (!markdown || spec.cliDefault === undefined) return shown;
  return `${shown} (library: ${String(defaultOf(spec))})`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
