import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { MergeError, UsageError } from '../errors.js';
import type { ResultSource } from '../bench/merge.js';
import { parseCommandLine } from '../options/command-line.js';
import { optionsHelp } from '../options/help.js';
import type { Io } from './io.js';

/** The most one input may hold: a result is a few KiB, so this is thousands of them. */
const INPUT_MAX_BYTES = 16 * 2 ** 20;

export function benchMergeHelp(): string {
  return `Usage: tcpecho bench merge FILE... [options]     (- reads stdin)

Combines the \`tcpecho bench --json\` results of generators run at once on several hosts into
one report, as a bench run prints it: counts and bytes added, rates over the union of the
measured windows, percentiles from the merged latency histograms (exactly what one generator
recording every message would report). A file holds one result, a JSON array of them, or one
per line. Results of different modes, sizes, transports (TCP, Unix, UDP), TLS, pipeline or
--rate use are refused.

${optionsHelp('bench-merge')}
Exit codes: 0 merged, no error counted; 1 the runs counted an error, or no message; 2 invalid
option or input (a file that cannot be read, is not a bench result, or differs from the others).
`;
}

/** `tcpecho bench merge`: resolves with the exit code. */
export async function benchMergeCommand(args: string[], io: Io): Promise<number> {
  const { flags, positionals } = parseCommandLine('bench-merge', args, Number.POSITIVE_INFINITY);
  if (flags.help) return io.out(benchMergeHelp()), 0;
  if (flags.version) return io.out(`${io.version}\n`), 0;
  if (positionals.length === 0) throw new UsageError('Expected at least one FILE of `tcpecho bench --json` results (`-` for stdin)');
  if (positionals.filter((file) => file === '-').length > 1) throw new UsageError('Expected `-` (stdin) at most once');
  const sources: ResultSource[] = [];
  for (const file of positionals) {
    const name = file === '-' ? 'stdin' : file;
    const stream = file === '-' ? process.stdin : createReadStream(file);
    sources.push(...parseResults(await readAtMost(stream, name), name));
  }
  // The histogram library is loaded only once there is something to merge.
  const { mergeSources } = await import('../bench/merge.js');
  const merged = mergeSources(sources);
  const report = merged.udp === undefined ? (await import('../bench/report.js')).formatReport : (await import('../bench/udp-report.js')).formatUdpReport;
  io.out(flags.json ? `${JSON.stringify(merged)}\n` : report(merged));
  return merged.errorTotal > 0 || merged.messages === 0 ? 1 : 0;
}

/** Everything `stream` holds, as text, at most INPUT_MAX_BYTES; a MergeError naming `name` otherwise. */
async function readAtMost(stream: Readable, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      length += (chunk as Buffer).length;
      if (length > INPUT_MAX_BYTES) throw new MergeError(`${name}: more than ${INPUT_MAX_BYTES / 2 ** 20} MiB, not bench results`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof MergeError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new MergeError(`Cannot read ${name}: ${why}${code === undefined ? '' : ` (${code})`}`, { cause: err });
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The results in one input: a JSON object, a JSON array of them, or one object per line. */
function parseResults(text: string, name: string): ResultSource[] {
  if (text.trim() === '') throw new MergeError(`${name}: empty, no bench result in it`);
  try {
    const whole = JSON.parse(text) as unknown;
    return Array.isArray(whole) ? whole.map((value, i) => ({ source: `${name}[${i}]`, value })) : [{ source: name, value: whole }];
  } catch {
    // Not one JSON value: JSON lines, as `tcpecho bench --json >> results.jsonl` writes them.
  }
  const lines = text.split('\n');
  const several = lines.filter((line) => line.trim() !== '').length > 1;
  const sources: ResultSource[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const source = several ? `${name}:${i + 1}` : name;
    try {
      sources.push({ source, value: JSON.parse(line) as unknown });
    } catch (err) {
      throw new MergeError(`${source}: not JSON (${(err as Error).message})`, { cause: err });
    }
  });
  return sources;
}
