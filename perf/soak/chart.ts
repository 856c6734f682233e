// The soak run as a picture: one panel per series (RSS, descriptors, throughput) against time, as
// SVG (real text: it reads in any browser and on code hosts, and diffs as text).

export interface Series {
  label: string;
  values: number[];
  /** A CSS colour. */
  color: string;
}

/** One sample a second of the soak: what soak.ts writes to its CSV, a row each. */
export interface SoakRow {
  t: number;
  rssMiB: number;
  fds: number;
  messagesPerS: number;
}

export const CSV_HEADER = 'seconds,rss_mib,fds,messages_per_s';

const WIDTH = 900;
const PANEL = 170;
const LEFT = 70;
const RIGHT = 30;
const GAP = 70;
const TOP = 50;

const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function formatNumber(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return n >= 100 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1);
}

/** A round step for about `count` ticks up to `max`: 1, 2 or 5 times a power of ten. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? raw;
}

/** Renders the series stacked, sharing the time axis (`seconds`, one per value), as an SVG document. */
export function renderChart(title: string, seconds: number[], series: Series[]): string {
  const height = TOP + series.length * (PANEL + GAP);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const tMax = Math.max(1, ...seconds);
  const tStep = tickStep(tMax, 8);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="28" font-size="18" font-weight="bold">${escape(title)}</text>`,
  ];
  series.forEach((s, index) => {
    const top = TOP + index * (PANEL + GAP) + 20;
    const bottom = top + PANEL;
    const peak = Math.max(0, ...s.values);
    const yStep = tickStep(Math.max(peak, 1e-9) * 1.05, 4);
    const yMax = Math.max(yStep, Math.ceil((peak * 1.05) / yStep) * yStep);
    const x = (t: number): number => LEFT + (t / tMax) * plotWidth;
    const y = (v: number): number => bottom - (v / yMax) * PANEL;
    out.push(`<text x="${LEFT}" y="${top - 8}" font-size="14" fill="${s.color}">${escape(s.label)} (max ${formatNumber(peak)})</text>`);
    for (let v = 0; v <= yMax + yStep / 2; v += yStep) {
      out.push(
        `<line x1="${LEFT}" y1="${y(v).toFixed(1)}" x2="${LEFT + plotWidth}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
        `<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${formatNumber(v)}</text>`,
      );
    }
    for (let t = 0; t <= tMax; t += tStep) {
      out.push(
        `<line x1="${x(t).toFixed(1)}" y1="${bottom}" x2="${x(t).toFixed(1)}" y2="${bottom + 4}" stroke="black"/>`,
        `<text x="${x(t).toFixed(1)}" y="${bottom + 17}" text-anchor="middle">${formatNumber(t)} s</text>`,
      );
    }
    out.push(`<polyline fill="none" stroke="black" points="${LEFT},${top} ${LEFT},${bottom} ${LEFT + plotWidth},${bottom}"/>`);
    const points = s.values.map((v, i) => `${x(seconds[i] ?? 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round" points="${points}"/>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}

/** The soak's chart: RSS, descriptors and verified messages a second of one run. */
export function soakChart(mode: string, runSeconds: number, rows: SoakRow[]): string {
  return renderChart(`tcpecho soak: ${mode} mode, ${runSeconds} s`, rows.map((r) => r.t), [
    { label: 'RSS, MiB (server and its processes)', values: rows.map((r) => r.rssMiB), color: '#c82828' },
    { label: 'open descriptors (server and its processes)', values: rows.map((r) => r.fds), color: '#2850c8' },
    { label: 'messages/s, every byte verified', values: rows.map((r) => r.messagesPerS), color: '#1e8c3c' },
  ]);
}

/** The soak's CSV of `rows`. */
export function soakCsv(rows: SoakRow[]): string {
  return [CSV_HEADER, ...rows.map((r) => `${r.t.toFixed(1)},${r.rssMiB.toFixed(1)},${r.fds},${r.messagesPerS}`)].join('\n') + '\n';
}

/** The rows of a soak CSV (as soakCsv writes it); throws on any other header or a malformed row. */
export function parseSoakCsv(text: string): SoakRow[] {
  const [header, ...lines] = text.trim().split('\n');
  if (header !== CSV_HEADER) throw new Error(`not a soak CSV: the header is not ${CSV_HEADER}`);
  return lines.map((line, i) => {
    const [t, rssMiB, fds, messagesPerS] = line.split(',').map(Number);
    const row = { t, rssMiB, fds, messagesPerS } as SoakRow;
    if (![row.t, row.rssMiB, row.fds, row.messagesPerS].every(Number.isFinite)) throw new Error(`soak CSV line ${i + 2} is malformed: ${line}`);
    return row;
  });
}
