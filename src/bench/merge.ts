import { inflateSync } from 'node:zlib';
import { build, decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { MergeError } from '../errors.js';
import { resultOf, type Figures } from './result.js';
import { HISTOGRAM } from './stats.js';
import { BENCH_MODES, BENCH_RESULT_FORMAT, ERROR_KINDS, type BenchCounts, type BenchResult, type BenchWindow, type ErrorKind, type UdpBenchFigures } from './types.js';

// Several runs' results as one: what a single generator recording every message of them would
// report. Counts are added, the latency histograms merged (HdrHistogram's add is exact: the same
// buckets, their counts summed), the rates taken over the union of the measured windows. Used for
// the runs of several hosts (`tcpecho bench merge`) and for the threads of one run (`--threads`).

/** A result to merge and where it came from, for messages: a file name, `results[2]`. */
export interface ResultSource {
  source: string;
  value: unknown;
}

/** What the runs being merged must share; anything else (connections, target, time) may differ. */
const IDENTITY = ['transport', 'mode', 'size', 'tls', 'tlsResume', 'pipeline'] as const;

/** The most error descriptions a result keeps, as a run's own. */
const SAMPLES = 5;

/**
 * Several `tcpecho bench --json` results (parsed) as one: counts and bytes summed, rates over the
 * union of the measured windows, percentiles from the merged latency histograms, exactly as one
 * generator recording every message would report them. Throws a `MergeError` for a value that is
 * not a bench result of this version, for results of different runs (mode, size, transport, TLS,
 * pipeline, open or closed loop) and for the same run given twice.
 */
export function mergeBenchResults(results: readonly BenchResult[]): BenchResult {
  return mergeSources(results.map((value, i) => ({ source: `results[${i}]`, value })));
}

/** `mergeBenchResults` with each result's own name in messages. */
export function mergeSources(sources: readonly ResultSource[]): BenchResult {
  if (sources.length === 0) throw new MergeError('No results to merge');
  const parts = sources.map(({ source, value }) => ({ source, ...checkResult(value, source) }));
  const first = parts[0] as (typeof parts)[number];
  const seen = new Map<string, string>();
  for (const part of parts) {
    const { result } = part;
    for (const key of IDENTITY) {
      if (result[key] !== first.result[key]) {
        throw new MergeError(`Cannot merge ${part.source} with ${first.source}: ${key} \`${String(result[key])}\`, not \`${String(first.result[key])}\``);
      }
    }
    if ((result.rate === undefined) !== (first.result.rate === undefined)) {
      const [open, closed] = result.rate === undefined ? [first.source, part.source] : [part.source, first.source];
      throw new MergeError(`Cannot merge ${part.source} with ${first.source}: ${open} ran at a fixed rate (--rate), ${closed} did not`);
    }
    for (const run of result.runs) {
      const earlier = seen.get(run);
      if (earlier !== undefined) throw new MergeError(`Cannot merge ${part.source} with ${earlier}: both hold run ${run} (the same result given twice?)`);
      seen.set(run, part.source);
    }
  }
  return combine(parts, 'hosts');
}

/**
 * The runs of `parts` as one result. `hosts`: separate runs, their CPU added, the rates over the
 * union of their windows. `threads`: the threads of one run (`runs` its id), which start together
 * and run the same phases for the same time: as before there was a merge of hosts, the longest
 * thread's window stands for the run's (each thread's rate counts in full) and its CPU, which is
 * the whole process's, for the run's CPU.
 */
export function combine(parts: ReadonlyArray<{ result: BenchResult; histogram: Histogram }>, how: 'hosts' | 'threads', runs?: string[]): BenchResult {
  const first = (parts[0] as (typeof parts)[number]).result;
  const histogram = build({ ...HISTOGRAM, bitBucketSize: 64 });
  const counts: BenchCounts = { bytesSent: 0, bytesReceived: 0, connectionsCompleted: 0, cpuUserUs: 0, cpuSystemUs: 0, runBytesSent: 0, runBytesReceived: 0 };
  const errors = Object.fromEntries(ERROR_KINDS.map((kind) => [kind, 0])) as Record<ErrorKind, number>;
  const samples: string[] = [];
  const windows: BenchWindow[] = [];
  const targets = new Set<string>();
  let minUs = Infinity;
  let maxUs = 0;
  let messages = 0;
  let tlsResumed = 0;
  let connections = 0;
  let interrupted = false;
  let longest = first;
  for (const { result: r, histogram: h } of parts) {
    histogram.add(h);
    if (r.messages > 0) minUs = Math.min(minUs, r.latencyUs.min);
    maxUs = Math.max(maxUs, r.latencyUs.max);
    messages += r.messages;
    tlsResumed += r.tlsResumed;
    connections += r.connections;
    interrupted ||= r.interrupted;
    targets.add(r.target);
    for (const key of Object.keys(counts) as Array<keyof BenchCounts>) counts[key] += r.counts[key];
    if (r.durationS >= longest.durationS) longest = r;
    for (const kind of ERROR_KINDS) errors[kind] += r.errors[kind];
    for (const sample of r.errorSamples) if (samples.length < SAMPLES) samples.push(sample);
    windows.push(...r.windows);
  }
  const union = how === 'hosts' ? unionOf(windows) : longest.windows;
  if (how === 'threads') [counts.cpuUserUs, counts.cpuSystemUs] = [longest.counts.cpuUserUs, longest.counts.cpuSystemUs];
  const figures: Figures = {
    histogram,
    minUs: minUs === Infinity ? 0 : minUs,
    maxUs,
    messages,
    tlsResumed,
    counts,
    errors,
    samples,
    windows: union,
    // One result merged alone keeps its own length, not one recomputed from epoch times.
    seconds: how === 'threads' ? longest.durationS : parts.length === 1 ? first.durationS : union.reduce((total, w) => total + (w.endMs - w.startMs), 0) / 1000,
    runs: runs ?? parts.flatMap((part) => part.result.runs),
  };
  const rates = parts.map((part) => part.result.rate);
  const shape = {
    mode: first.mode,
    target: [...targets].join(' + '),
    transport: first.transport,
    tls: first.tls,
    tlsResume: first.tlsResume,
    rate: rates.every((rate) => rate !== undefined) ? rates.reduce((a, b) => a + b, 0) : undefined,
    connections,
    size: first.size,
    pipeline: first.pipeline,
    interrupted,
  };
  const merged = resultOf(figures, shape);
  if (first.udp === undefined) return merged;
  return { ...merged, udp: udpFigures(parts.map((part) => part.result.udp as UdpBenchFigures)) };
}

/** The datagram counts of several runs added; the loss rate of the sum. */
function udpFigures(all: UdpBenchFigures[]): UdpBenchFigures {
  const sum = (key: 'sent' | 'echoed' | 'lost' | 'late' | 'duplicated' | 'reordered'): number => all.reduce((total, u) => total + u[key], 0);
  const sent = sum('sent');
  const lost = sum('lost');
  const rates = all.map((u) => u.rate);
  const figures: UdpBenchFigures = { sent, echoed: sum('echoed'), lost, late: sum('late'), duplicated: sum('duplicated'), reordered: sum('reordered'), lossRate: sent === 0 ? 0 : lost / sent };
  if (rates.every((rate) => rate !== undefined)) figures.rate = rates.reduce((a, b) => a + b, 0);
  return figures;
}

/** The union of `windows`: disjoint, in order of time. */
export function unionOf(windows: readonly BenchWindow[]): BenchWindow[] {
  const union: BenchWindow[] = [];
  for (const w of [...windows].sort((a, b) => a.startMs - b.startMs)) {
    const last = union.at(-1);
    if (last !== undefined && w.startMs <= last.endMs) last.endMs = Math.max(last.endMs, w.endMs);
    else union.push({ startMs: w.startMs, endMs: w.endMs });
  }
  return union;
}

// ---- Checking a parsed value as a result, before any of it is trusted.

type Check = (value: unknown) => boolean;
const isCount: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isAmount: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isBoolean: Check = (v) => typeof v === 'boolean';
const isText: Check = (v) => typeof v === 'string' && v !== '';
const oneOf = (choices: readonly string[]): Check => (v) => typeof v === 'string' && choices.includes(v);
const optional = (check: Check): Check => (v) => v === undefined || check(v);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What every field must be, by its path; `udp.*` only in UDP results. */
const FIELDS: ReadonlyArray<[string, Check, string]> = [
  ['transport', oneOf(['tcp', 'unix', 'udp']), '`tcp`, `unix` or `udp`'],
  ['mode', oneOf(BENCH_MODES), BENCH_MODES.map((m) => `\`${m}\``).join(', ')],
  ['target', isText, 'text'],
  ['tls', isBoolean, 'true or false'],
  ['tlsResume', isBoolean, 'true or false'],
  ['interrupted', isBoolean, 'true or false'],
  ['connections', isCount, 'a count'],
  ['size', isCount, 'a count'],
  ['pipeline', optional(isCount), 'a count'],
  ['rate', optional(isCount), 'a count'],
  ['durationS', isAmount, 'a number of seconds'],
  ['messages', isCount, 'a count'],
  ['tlsResumed', isCount, 'a count'],
  ['latencyUs.min', isAmount, 'microseconds'],
  ['latencyUs.max', isAmount, 'microseconds'],
  ['errorSamples', (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'), 'a list of text'],
  ['runs', (v) => Array.isArray(v) && v.length > 0 && v.every(isText), 'a list of run ids'],
  ['windows', (v) => Array.isArray(v) && v.length > 0 && v.every(isWindow), 'a list of { startMs, endMs }'],
  ['latencyHistogram', isText, 'an HdrHistogram compressed base64 encoding'],
  ...ERROR_KINDS.map((kind): [string, Check, string] => [`errors.${kind}`, isCount, 'a count']),
  ...['bytesSent', 'bytesReceived', 'connectionsCompleted', 'cpuUserUs', 'cpuSystemUs', 'runBytesSent', 'runBytesReceived'].map((key): [string, Check, string] => [`counts.${key}`, isCount, 'a count']),
];
const UDP_FIELDS: ReadonlyArray<[string, Check, string]> = [
  ...['sent', 'echoed', 'lost', 'late', 'duplicated', 'reordered'].map((key): [string, Check, string] => [`udp.${key}`, isCount, 'a count']),
  ['udp.rate', optional(isCount), 'a count'],
];

function isWindow(w: unknown): boolean {
  return isObject(w) && isAmount(w.startMs) && isAmount(w.endMs) && (w.endMs as number) >= (w.startMs as number);
}

function at(value: Record<string, unknown>, path: string): unknown {
  let here: unknown = value;
  for (const key of path.split('.')) here = isObject(here) ? here[key] : undefined;
  return here;
}

/** `value` as a result, with its histogram decoded; a MergeError naming `source` and the field otherwise. */
function checkResult(value: unknown, source: string): { result: BenchResult; histogram: Histogram } {
  const fail = (what: string): MergeError => new MergeError(`${source}: ${what}`);
  if (!isObject(value)) throw fail('not a `tcpecho bench --json` result (not a JSON object)');
  if (value.format === undefined) throw fail('not a `tcpecho bench --json` result (no `format`; from an older tcpecho?)');
  if (value.format !== BENCH_RESULT_FORMAT) throw fail(`a result of format \`${String(value.format)}\`, expected \`${BENCH_RESULT_FORMAT}\``);
  for (const [path, check, expected] of value.transport === 'udp' ? [...FIELDS, ...UDP_FIELDS] : FIELDS) {
    if (!check(at(value, path))) throw fail(`expected \`${path}\` to be ${expected}, got \`${JSON.stringify(at(value, path)) ?? 'nothing'}\``);
  }
  const result = value as unknown as BenchResult;
  const histogram = decodeHistogram(result.latencyHistogram, fail);
  if (histogram.totalCount !== result.messages) {
    throw fail(`\`latencyHistogram\` holds ${histogram.totalCount} latencies, but \`messages\` is ${result.messages}`);
  }
  return { result, histogram };
}

/**
 * The plain encoding of our histogram's shape is at most ~212 KB (23,552 counts of up to 9 bytes);
 * past this the input is not one of ours, and is not inflated further (a few bytes of zlib can
 * stand for gigabytes).
 */
const PLAIN_HISTOGRAM_MAX = 1 << 20;
/** HdrHistogram's V2 compressed cookie, word-size bits masked (its Java and JavaScript sources). */
const COMPRESSED_COOKIE = 0x1c849304;

/** A compressed base64 histogram of the shape tcpecho records, or `fail`. */
function decodeHistogram(text: string, fail: (what: string) => MergeError): Histogram {
  const bad = fail('`latencyHistogram` is not an HdrHistogram compressed base64 encoding');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 8 || (bytes.readInt32BE(0) & ~0xf0) !== COMPRESSED_COOKIE) throw bad;
  let plain: Buffer;
  try {
    plain = inflateSync(bytes.subarray(8, 8 + Math.max(0, bytes.readInt32BE(4))), { maxOutputLength: PLAIN_HISTOGRAM_MAX });
  } catch (err) {
    throw new MergeError(bad.message, { cause: err });
  }
  // The plain header: cookie, payload length, normalizing offset, significant digits, lowest and
  // highest trackable values (big-endian, as HdrHistogram writes them).
  if (plain.length < 40 || plain.readInt32BE(12) !== HISTOGRAM.numberOfSignificantValueDigits || plain.readBigInt64BE(16) !== BigInt(HISTOGRAM.lowestDiscernibleValue) ||
    plain.readBigInt64BE(24) !== BigInt(HISTOGRAM.highestTrackableValue)) {
    throw fail('`latencyHistogram` is not of the shape tcpecho records (1 µs to 3,600,000,000 µs, 3 significant digits)');
  }
  try {
    return decodeFromCompressedBase64(text, 64);
  } catch (err) {
    throw new MergeError(bad.message, { cause: err });
  }
}
