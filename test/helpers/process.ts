// The tests read /proc through the measuring scripts' reader (perf/proc.ts): one parser for both.
export { childrenOf, cpuSeconds, cpusAllowed, isRunning, openFds, processTree, rssBytes, rssKiB } from '../../perf/proc.js';
