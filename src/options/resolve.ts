import { UsageError } from '../errors.js';
import { optionsOf, UDP_DEFAULTS, UDP_MODES, UDP_OPTIONS, type Command, type OptionSpec, type OptionValue } from './table.js';
import { parseCidr } from './values.js';
import { checkUnixPath, isAbstract } from '../unix-path.js';

/**
 * How an option is named in a message: the library's key (`maxConnections`) for a caller of the
 * API, the flag (`--max-connections`) on the command line. Values are always the library's.
 */
export type Naming = 'library' | 'cli';

export function nameOf(spec: OptionSpec, naming: Naming): string {
  return naming === 'cli' ? `--${spec.flag}` : spec.key;
}

/** Rules between options, checked once every value is known. */
const CROSS_CHECKS: Partial<Record<Command, (values: Values, given: Values, name: (key: string) => string, naming: Naming) => void>> = {
  server(values, given, name) {
    if (values.unixMode !== undefined && values.unix === undefined) throw new UsageError(`\`${name('unixMode')}\` needs \`${name('unix')}\``);
    if (values.unixMode !== undefined && typeof values.unix === 'string' && isAbstract(values.unix)) {
      throw new UsageError(`\`${name('unixMode')}\` does not apply to an abstract name (\`${values.unix}\` has no file)`);
    }
    if (values.mode === 'fork' && (values.spare as number) > (values.maxChildren as number)) {
      throw new UsageError(
        `Expected \`${name('spare')}\` (${String(values.spare)}) to be at most \`${name('maxChildren')}\` (${String(values.maxChildren)}): spares count towards it`,
      );
    }
    void given;
  },
  bench(_values, given, name, naming) {
    // The library takes both (`messages` wins, its documented meaning); on a command line both
    // is a mistake worth saying.
    if (naming === 'cli' && given.durationMs !== undefined && given.messages !== undefined) {
      throw new UsageError(`Give either \`${name('durationMs')}\` or \`${name('messages')}\`, not both`);
    }
  },
};

export type Values = Record<string, OptionValue | undefined>;

/**
 * Checks every option `given` for `command` (ranges, choices, the modes it applies to, the rules
 * between options) and returns them with the defaults filled in. Only library options are
 * returned; command-line-only ones (`--quiet`) are the CLI's to read. Keys that are not options
 * of this command are left alone (a caller may pass an AbortSignal or a callback beside them).
 */
export function resolveOptions(command: Command, given: object, naming: Naming = 'library'): Values {
  const input = given as Values;
  const specs = optionsOf(command).filter((spec) => spec.cliOnly !== true);
  const byKey = new Map(specs.map((spec) => [spec.key, spec]));
  const name = (key: string): string => {
    const spec = byKey.get(key);
    return spec === undefined ? key : nameOf(spec, naming);
  };
  const values: Values = {};
  const udp = input.udp === true;
  // A default passed on (the CLI's resolved values, given to the library again) says nothing.
  checkTransport(command, specs.filter((spec) => input[spec.key] !== undefined && !sameValue(input[spec.key], defaultOf(spec))), udp, naming);
  const modeSpec = byKey.get('mode');
  const mode = modeSpec === undefined ? undefined : input.mode === undefined ? defaultOf(modeSpec) : checkValue(modeSpec, input.mode, naming);
  if (udp) checkUdpMode(command, mode, naming);
  for (const spec of specs) {
    const value = input[spec.key];
    const udpDefault = udp ? UDP_DEFAULTS[command]?.[spec.key] : undefined;
    if (value !== undefined) values[spec.key] = checkValue(spec, value, naming);
    else if (udpDefault !== undefined) values[spec.key] = udpDefault;
    // An option of another mode gets no default: the result can be passed on and checked again.
    else if (spec.modes === undefined || spec.modes.includes(String(mode))) values[spec.key] = defaultOf(spec);
  }
  for (const spec of specs) {
    if (spec.modes === undefined || input[spec.key] === undefined || spec.modes.includes(String(mode))) continue;
    // With --udp, what applies at all was checked above (`--rate` paces datagrams).
    if (udp) continue;
    if (modeSpec === undefined) continue;
    const where = spec.modes.map((m) => (naming === 'cli' ? `\`--${modeSpec.flag} ${m}\`` : `mode \`${m}\``)).join(' or ');
    const now = naming === 'cli' ? `\`--${modeSpec.flag} ${String(mode)}\`` : `\`${String(mode)}\``;
    throw new UsageError(`\`${nameOf(spec, naming)}\` applies to ${where} only, not ${now}`);
  }
  CROSS_CHECKS[command]?.(values, input, name, naming);
  if (values.unix !== undefined) checkUnixPath(values.unix, name('unix'));
  return values;
}

/**
 * `--udp` and the options `given` with it: with it, only UDP_OPTIONS and the one mode of
 * UDP_MODES; without it, no `udpOnly` option. The command line calls this with its
 * command-line-only flags too (`--tls --udp`).
 */
export function checkTransport(command: Command, given: readonly OptionSpec[], udp: boolean, naming: Naming): void {
  const udpFlag = naming === 'cli' ? '`--udp`' : '`udp: true`';
  for (const spec of given) {
    if (udp && !UDP_OPTIONS[command].includes(spec.flag)) throw new UsageError(`\`${nameOf(spec, naming)}\` does not apply with ${udpFlag} (TCP only)`);
    if (!udp && spec.udpOnly === true) throw new UsageError(`\`${nameOf(spec, naming)}\` applies with ${udpFlag} only`);
  }
}

/** With `--udp`, a mode other than the one it has is a usage error saying which it has. */
function checkUdpMode(command: Command, mode: unknown, naming: Naming): void {
  const only = UDP_MODES[command];
  if (only === undefined || mode === undefined || mode === only) return;
  const [asked, has] = naming === 'cli' ? [`\`--mode ${String(mode)}\``, `\`--mode ${only}\``] : [`mode \`${String(mode)}\``, `mode \`${only}\``];
  const why = command === 'server'
    ? 'UDP is served by one event loop; fork and cluster would split a source\'s rate limit and counters between processes'
    : 'a datagram has no stream and no connection';
  throw new UsageError(`${asked} does not apply with ${naming === 'cli' ? '`--udp`' : '`udp: true`'}, which has ${has} only: ${why}`);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((one, i) => one === b[i]);
  return a === b;
}

export function defaultOf(spec: OptionSpec): OptionValue | undefined {
  return typeof spec.default === 'function' ? spec.default() : spec.default;
}

/** One value given through the library, checked against its spec. */
export function checkValue(spec: OptionSpec, value: unknown, naming: Naming): OptionValue {
  const name = nameOf(spec, naming);
  switch (spec.kind) {
    case 'flag':
      if (typeof value === 'boolean') return value;
      throw new UsageError(`Expected \`${name}\` to be a boolean, got \`${String(value)}\``);
    case 'text':
      if (typeof value === 'string' && value !== '') return value;
      throw new UsageError(`Expected \`${name}\` to be a non-empty string, got \`${String(value)}\``);
    case 'choice': {
      const choices = spec.choices ?? [];
      if (typeof value === 'string' && choices.includes(value)) return value;
      throw new UsageError(`Expected \`${name}\` to be one of ${choices.map((c) => `\`${c}\``).join(', ')}, got \`${String(value)}\``);
    }
    case 'cidr': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((one) => typeof one !== 'string')) {
        throw new UsageError(`Expected \`${name}\` to be an array of addresses or networks (\`127.0.0.0/8\`), got \`${String(value)}\``);
      }
      for (const one of list as string[]) parseCidr(one, name);
      return list as string[];
    }
    case 'fraction':
      if (typeof value === 'number' && value >= 0 && value <= 1) return value;
      throw new UsageError(`Expected \`${name}\` to be a number from 0 to 1, got \`${String(value)}\``);
    case 'octal':
    case 'port':
    case 'integer':
    case 'size':
    case 'seconds': {
      const min = spec.kind === 'port' ? 0 : (spec.min ?? 0);
      const max = spec.kind === 'port' ? 65_535 : (spec.max ?? Number.MAX_SAFE_INTEGER);
      if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
      throw new UsageError(`Expected \`${name}\` to be ${rangeText(spec, naming)}, got \`${String(value)}\``);
    }
  }
}

/** "an integer from 1 to 1024", in the unit of the naming. */
export function rangeText(spec: OptionSpec, naming: Naming): string {
  if (spec.kind === 'port') return 'an integer from 0 to 65535';
  const min = spec.min ?? 0;
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (spec.kind === 'seconds' && naming === 'cli') return `a number of seconds from ${min / 1000} to ${max / 1000}`;
  if (spec.kind === 'seconds') return `a whole number of milliseconds from ${min} to ${max}`;
  if (spec.kind === 'size' && naming === 'cli') return `a size from ${min} to ${max} bytes (like 64, 1k, 64KiB, 1MiB)`;
  return `an integer from ${min} to ${max}`;
}
