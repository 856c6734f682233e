// `tcpecho/bench`: the byte-verifying load generator, apart from the main entry so that a program
// that only serves or connects does not load the histogram library.
export { runBench } from './run-bench.js';
export { mergeBenchResults } from './merge.js';
export { BENCH_MODES, BENCH_RESULT_FORMAT, ERROR_KINDS } from './types.js';
export type { BenchOptions, BenchResult, BenchMode, BenchProgress, LatencySummary, ErrorKind, UdpBenchFigures, BenchCounts, BenchTransport, BenchWindow } from './types.js';
