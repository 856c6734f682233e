// `tcpecho/bench`: the byte-verifying load generator, apart from the main entry so that a program
// that only serves or connects does not load the histogram library.
export { runBench } from './run-bench.js';
export { BENCH_MODES, ERROR_KINDS } from './types.js';
export type { BenchOptions, BenchResult, BenchMode, BenchProgress, LatencySummary, ErrorKind, UdpBenchFigures } from './types.js';
