import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { checkTransport, nameOf, rangeText, resolveOptions, type Values } from './resolve.js';
import { optionsOf, type Command, type OptionSpec, type OptionValue } from './table.js';
import { parseCidr } from './values.js';

export interface CommandLine {
  /** Library options, checked, in the library's units, defaults filled (the CLI's where it has its own). */
  options: Values;
  /** Command-line-only flags (`help`, `quiet`, `json`, ...): true when given. */
  flags: Record<string, boolean>;
  /** Command-line-only options with a value (`--tls-cert FILE`), checked, by key; absent when not given. */
  cliValues: Record<string, OptionValue>;
  positionals: string[];
  /** The library keys given on the command line (not defaults). */
  given: Set<string>;
}

/**
 * Parses one subcommand's arguments with `util.parseArgs` (strict), configured from the option
 * table, then checks every value as the library would. Every mistake is one `UsageError` line in
 * our words, naming the flag: Node's parser would say `argument is ambiguous` for `-p -1`, and
 * quote unknown flags with an unbalanced `-- "-x"`.
 */
export function parseCommandLine(command: Command, args: string[], maxPositionals: number): CommandLine {
  const specs = optionsOf(command);
  const normalized = normalize(args, specs);
  const config: NonNullable<ParseArgsConfig['options']> = {};
  for (const spec of specs) {
    const type = spec.kind === 'flag' ? 'boolean' : 'string';
    const multiple = spec.repeatable === true;
    config[spec.flag] = spec.short === undefined ? { type, multiple } : { type, multiple, short: spec.short };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: normalized, options: config, strict: true, allowPositionals: true });
  } catch (err) {
    // normalize() has already caught what the user can get wrong; this is the last resort.
    throw new UsageError((err as Error).message.split('\n')[0]?.split('. ')[0] ?? 'Invalid arguments', { cause: err });
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`Unexpected argument \`${parsed.positionals[maxPositionals] ?? ''}\``);
  }
  const given: Values = {};
  const flags: Record<string, boolean> = {};
  const cliValues: Record<string, OptionValue> = {};
  const raw = parsed.values as Record<string, string | boolean | string[] | undefined>;
  for (const spec of specs) {
    const value = raw[spec.flag];
    if (spec.cliOnly === true && spec.kind === 'flag') {
      flags[spec.key] = value === true;
    } else if (value === undefined) {
      continue;
    } else if (spec.cliOnly === true) {
      cliValues[spec.key] = fromText(spec, value as string);
    } else if (Array.isArray(value)) {
      given[spec.key] = value.map((one) => fromText(spec, one) as string);
    } else {
      given[spec.key] = fromText(spec, value);
    }
  }
  if (flags.help === true || flags.version === true) return { options: {}, flags, cliValues, positionals: parsed.positionals, given: new Set() };
  // The library options are checked with the rest in resolveOptions; these only the CLI has.
  checkTransport(command, specs.filter((spec) => spec.cliOnly === true && raw[spec.flag] !== undefined), raw.udp === true, 'cli');
  const withCliDefaults: Values = {};
  for (const spec of specs) if (spec.cliDefault !== undefined) withCliDefaults[spec.key] = spec.cliDefault;
  const options = resolveOptions(command, { ...withCliDefaults, ...given }, 'cli');
  return { options, flags, cliValues, positionals: parsed.positionals, given: new Set(Object.keys(given)) };
}

/**
 * Rewrites `-p 9000`, `--port 9000` and `-p9000` as `--port=9000`, so that a value that starts with
 * a dash (`-p -1`) reaches our own check instead of Node's "ambiguous" error, and rejects unknown
 * flags and flags without their value in one line each.
 */
function normalize(args: string[], specs: OptionSpec[]): string[] {
  const byLong = new Map(specs.map((s) => [s.flag, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short as string, s]));
  const out: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const spec = byLong.get(name);
      if (spec === undefined) throw unknownOption(`--${name}`);
      if (spec.kind === 'flag') {
        if (eq !== -1) throw new UsageError(`\`--${spec.flag}\` takes no value, got \`${arg}\``);
        out.push(arg);
      } else if (eq !== -1) {
        out.push(arg);
      } else {
        out.push(`--${spec.flag}=${valueAfter(args, i++, spec)}`);
      }
      continue;
    }
    // `-4` is a flag; `-1` is a value that will get its own message (a port cannot be negative).
    if (arg.startsWith('-') && arg.length > 1 && (byShort.has(arg[1] as string) || !/^-\d/.test(arg))) {
      // A cluster of short flags (`-qv`), the last of which may take a value (`-p9000`, `-qp 9000`).
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j] as string);
        if (spec === undefined) throw unknownOption(`-${arg[j] as string}`);
        if (spec.kind === 'flag') {
          out.push(`--${spec.flag}`);
          continue;
        }
        const inline = arg.slice(j + 1);
        out.push(`--${spec.flag}=${inline !== '' ? inline : valueAfter(args, i++, spec)}`);
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  // After `--`, parseArgs takes everything as a positional, even `-1`.
  return [...out, '--', ...positionals];
}

function valueAfter(args: string[], i: number, spec: OptionSpec): string {
  const value = args[i + 1];
  if (value === undefined) throw new UsageError(`\`--${spec.flag}\` needs a value (${spec.arg ?? 'VALUE'})`);
  return value;
}

function unknownOption(flag: string): UsageError {
  return new UsageError(`Unknown option \`${flag}\``);
}

/** A command-line value in the library's unit, or a usage error naming the flag. */
function fromText(spec: OptionSpec, value: string | boolean): OptionValue {
  if (typeof value === 'boolean') return value;
  const name = nameOf(spec, 'cli');
  const fail = (): never => {
    const expected = spec.kind === 'choice'
      ? `one of ${(spec.choices ?? []).map((c) => `\`${c}\``).join(', ')}`
      : spec.kind === 'text' ? 'a non-empty value'
        : spec.kind === 'octal' ? 'permissions in octal, like 0660'
          : spec.kind === 'fraction' ? 'a number from 0 to 1' : rangeText(spec, 'cli');
    throw new UsageError(`Expected \`${name}\` to be ${expected}, got \`${value}\``);
  };
  switch (spec.kind) {
    case 'text':
      return value === '' ? fail() : value;
    case 'choice':
      return (spec.choices ?? []).includes(value) ? value : fail();
    case 'port':
    case 'integer':
      // Plain decimal digits only: Node's listen() would take `8080abc` or `-1` for a Unix socket
      // path, and Number() takes `1e3` and `0x1B59`.
      return /^\d{1,16}$/.test(value) ? inRange(spec, Number(value), fail) : fail();
    case 'seconds':
      return /^\d{1,12}(\.\d{1,9})?$/.test(value) ? inRange(spec, Math.round(Number(value) * 1000), fail) : fail();
    case 'size':
      return inRange(spec, sizeInBytes(value) ?? fail(), fail);
    case 'cidr':
      // Its own message, naming what is wrong with the value.
      parseCidr(value, name);
      return value;
    case 'octal':
      return /^0?[0-7]{3,4}$/.test(value) ? inRange(spec, Number.parseInt(value, 8), fail) : fail();
    case 'fraction':
      return /^(0(\.\d{1,9})?|1(\.0{1,9})?|\.\d{1,9})$/.test(value) ? Number(value) : fail();
    case 'flag':
      return fail();
  }
}

function inRange(spec: OptionSpec, n: number, fail: () => never): number {
  const min = spec.kind === 'port' ? 0 : (spec.min ?? 0);
  const max = spec.kind === 'port' ? 65_535 : (spec.max ?? Number.MAX_SAFE_INTEGER);
  return n >= min && n <= max ? n : fail();
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20 };

/**
 * `64`, `1k`, `64KiB`, `1MiB`: units are binary (k = KiB = 1024). A load generator's users mean
 * 1024 when they write 1k; saying so beats guessing.
 */
function sizeInBytes(value: string): number | undefined {
  const match = /^(\d{1,12})\s*([a-z]*)$/i.exec(value.trim());
  const factor = SIZE_UNITS[match?.[2]?.toLowerCase() ?? ''];
  return match?.[1] === undefined || factor === undefined ? undefined : Number(match[1]) * factor;
}
