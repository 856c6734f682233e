import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type ParsedValues<T extends Options> = ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>>['values'];

/**
 * `util.parseArgs` in strict mode, with its errors turned into one-line usage errors (exit 2).
 */
export function parseCommandLine<T extends Options>(
  args: string[],
  options: T,
  maxPositionals: number,
): { values: ParsedValues<T>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'Invalid arguments', { cause: err });
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`Unexpected argument \`${parsed.positionals[maxPositionals] ?? ''}\``);
  }
  return parsed;
}
