// `tcpecho bench` against the C load generator, both driving the C server `refecho`: what the Node
// generator's own ceiling is, and what its verification costs in CPU per message.
import type { BenchResult } from '../src/bench/index.js';
import { BenchFailure, loadgen, nodeBench, type LoadgenSummary, type RunSettings } from './drivers.js';
import { fmt, median, ratio } from './figures.js';
import { refechoServer } from './servers.js';

export interface GeneratorRun {
  rounds: number;
  duration: string;
  warmup: string;
  /** With both, the server runs on `serverCpu` and each generator on `generatorCpu`. */
  pin: { serverCpu: number; generatorCpu: number } | undefined;
  log: (line: string) => void;
  /** Records a failed run (left out of the medians). */
  failed: (what: string) => void;
}

const CASES = [
  { name: 'pingpong c=50 1 KiB', metric: 'msg/s', c: ['-m', 'pingpong', '-c', '50', '-s', '1024'], ours: ['-m', 'pingpong', '-c', '50', '-s', '1k'], pickC: (j: LoadgenSummary) => j.msgs_per_s, pickOurs: (r: BenchResult) => r.messagesPerS },
  { name: 'stream c=4 64 KiB', metric: 'MiB/s', c: ['-m', 'stream', '-c', '4', '-s', '65536'], ours: ['-m', 'stream', '-c', '4', '-s', '64k'], pickC: (j: LoadgenSummary) => j.mib_per_s, pickOurs: (r: BenchResult) => r.mibPerS },
];

export const GENERATOR_HEADER = [
  '| workload | metric | C loadgen | tcpecho bench | ratio | generator CPU per unit, C | tcpecho bench | ratio |',
  '|---|---|---|---|---|---|---|---|',
];

/** One table row per case, each the median of `rounds` runs of both generators (alternating which goes first). */
export async function generatorRows(tools: { refecho: string; loadgen: string }, run: GeneratorRun): Promise<string[]> {
  const refecho = refechoServer(tools.refecho);
  const settings: RunSettings = { duration: run.duration, warmup: run.warmup, cpu: run.pin?.generatorCpu };
  const unit = (metric: string): string => (metric === 'msg/s' ? 'µs/msg' : 'µs/MiB');
  const rows: string[] = [];
  for (const shape of CASES) {
    const name = run.pin ? `${shape.name}, pinned` : shape.name;
    const figures = { c: [] as number[], ours: [] as number[], cpuC: [] as number[], cpuOurs: [] as number[] };
    for (let round = 0; round < run.rounds; round++) {
      const server = await refecho.start(run.pin?.serverCpu);
      try {
        run.log(`round ${round + 1}/${run.rounds}  load generators    ${name}`);
        // CPU time each generator spent per message (per MiB in stream), µs: less at the mercy of
        // the VM's neighbours than the rates are, since it counts only the generator's own work.
        const runC = (): void => {
          const summary = attempt(run, `round ${round + 1}, C loadgen against refecho, ${name}`, () => loadgen(tools.loadgen, server.port, shape.c, settings));
          if (summary === undefined) return;
          const figure = shape.pickC(summary);
          figures.c.push(figure);
          figures.cpuC.push((summary.loadgen_cpu_pct / 100 / figure) * 1e6);
          run.log(`    C loadgen ${fmt(figure)} ${shape.metric}, ${fmt(figures.cpuC.at(-1), 2)} ${unit(shape.metric)}`);
        };
        const runOurs = (): void => {
          const result = attempt(run, `round ${round + 1}, tcpecho bench against refecho, ${name}`, () => nodeBench(server.port, shape.ours, settings));
          if (result === undefined) return;
          const figure = shape.pickOurs(result);
          figures.ours.push(figure);
          figures.cpuOurs.push(((result.cpuPercent.user + result.cpuPercent.system) / 100 / figure) * 1e6);
          run.log(`    tcpecho bench ${fmt(figure)} ${shape.metric}, ${fmt(figures.cpuOurs.at(-1), 2)} ${unit(shape.metric)}`);
        };
        if (round % 2 === 0) (runC(), runOurs());
        else (runOurs(), runC());
      } finally {
        await server.stop();
      }
    }
    const [c, ours, cpuC, cpuOurs] = [figures.c, figures.ours, figures.cpuC, figures.cpuOurs].map(median);
    rows.push(
      `| ${name} | ${shape.metric} | ${fmt(c)} | ${fmt(ours)} | ${ratio(ours, c)} | ` +
        `${fmt(cpuC, 2)} ${unit(shape.metric)} | ${fmt(cpuOurs, 2)} ${unit(shape.metric)} | ${ratio(cpuOurs, cpuC)} (lower is better) |`,
    );
  }
  return rows;
}

function attempt<T>(run: GeneratorRun, what: string, go: () => T): T | undefined {
  try {
    return go();
  } catch (err) {
    if (!(err instanceof BenchFailure)) throw err;
    run.failed(`${what}: ${err.message}`);
    return undefined;
  }
}
