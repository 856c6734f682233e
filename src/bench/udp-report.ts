import { formatReport } from './report.js';
import type { BenchResult } from './types.js';

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The TCP report's figures (messages are datagrams echoed in time), then the datagram counts. */
export function formatUdpReport(r: BenchResult): string {
  const u = r.udp;
  if (u === undefined) return formatReport(r);
  const lines = [
    `  datagrams     sent ${u.sent}, echoed ${u.echoed}, lost ${u.lost} (loss ${pct(u.lossRate)})` + (u.rate === undefined ? '' : `, at ${u.rate}/s`),
    `                late ${u.late}, duplicated ${u.duplicated}, reordered ${u.reordered}`,
  ];
  return `${formatReport(r).replace(/ connection\(s\)/, ' flow(s)').replace(/, pipeline 1/, '')}${lines.join('\n')}\n`;
}
