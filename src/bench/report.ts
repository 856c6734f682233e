import type { BenchResult } from './types.js';

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The human-readable report, for stdout. */
export function formatReport(r: BenchResult): string {
  const lines = [
    `tcpecho bench: ${r.mode} ${r.target}${r.tls ? ' (TLS)' : ''}, ${r.connections} connection(s), ${fmt(r.size)} B messages` +
      (r.mode === 'pingpong' ? `, pipeline ${r.pipeline}` : '') +
      `, ${fmt(r.durationS, 2)} s${r.interrupted ? ' (interrupted)' : ''}${r.runs.length > 1 ? `, ${r.runs.length} runs merged` : ''}`,
    '',
    `  messages      ${fmt(r.messages)}  (${fmt(r.messagesPerS)} msg/s)`,
    `  throughput    ${fmt(r.mibPerS, 2)} MiB/s echoed, ${fmt(r.sentMibPerS, 2)} MiB/s sent`,
  ];
  if (r.mode === 'connect') lines.push(`  connections   ${fmt(r.connectionsPerS, 1)} conn/s`);
  if (r.mode === 'connect' && r.tls) lines.push(`  TLS sessions  ${fmt(r.tlsFull)} full handshakes, ${fmt(r.tlsResumed)} resumed`);
  const l = r.latencyUs;
  lines.push(
    '',
    '  latency (µs)  min      p50      p90      p99      p99.9    max',
    `                ${[l.min, l.p50, l.p90, l.p99, l.p999, l.max].map((v) => fmt(v).padEnd(8)).join(' ')}`,
    '',
    `  generator CPU ${fmt(r.cpuPercent.user + r.cpuPercent.system)}% of a core (user ${fmt(r.cpuPercent.user)}%, system ${fmt(r.cpuPercent.system)}%)`,
    `  errors        ${r.errorTotal}` +
      (r.errorTotal === 0 ? '' : `  (${Object.entries(r.errors).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')})`),
  );
  for (const sample of r.errorSamples) lines.push(`    ${sample}`);
  return `${lines.join('\n')}\n`;
}

/** One progress line, redrawn in place on a terminal. */
export function formatProgress(elapsedS: number, messages: number, errors: number): string {
  const rate = elapsedS > 0 ? messages / elapsedS : 0;
  return `\r  ${fmt(elapsedS, 1)} s  ${fmt(messages)} messages  ${fmt(rate)} msg/s  errors ${errors}   `;
}
