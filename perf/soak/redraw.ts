// Draws a soak chart again from its CSV, beside it (soak-event.csv -> soak-event.svg): for the
// committed runs under bench/results/soak/, after the chart itself changes.
//
//   node build/perf/soak/redraw.js bench/results/soak/soak-*.csv
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseSoakCsv, soakChart } from './chart.js';

const files = process.argv.slice(2);
if (files.length === 0 || files.some((file) => !/^soak-\w+\.csv$/.test(basename(file)))) {
  console.error('usage: redraw soak-MODE.csv [...]');
  process.exit(2);
}
for (const file of files) {
  try {
    const rows = parseSoakCsv(readFileSync(file, 'utf8'));
    const mode = basename(file).slice('soak-'.length, -'.csv'.length);
    writeFileSync(file.replace(/\.csv$/, '.svg'), soakChart(mode, Math.round(rows.at(-1)?.t ?? 0), rows));
  } catch (err) {
    console.error(`redraw: ${file}: ${(err as Error).message}`);
    process.exit(1);
  }
}
