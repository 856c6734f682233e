// The soak run as a picture: one panel per series (RSS, descriptors, throughput) against time.
import { drawText } from './font.js';
import { encodePng } from './png.js';

export interface Series {
  label: string;
  values: number[];
  color: [number, number, number];
}

const WIDTH = 900;
const PANEL = 180;
const MARGIN = 50;

/** Renders the series stacked, sharing the time axis (one value per second), as a PNG. */
export function renderChart(title: string, seconds: number[], series: Series[]): Buffer {
  const height = MARGIN + series.length * (PANEL + MARGIN);
  const rgb = new Uint8Array(WIDTH * height * 3).fill(255);
  const plot = (x: number, y: number, [r, g, b]: [number, number, number]): void => {
    if (x < 0 || y < 0 || x >= WIDTH || y >= height) return;
    const i = (Math.round(y) * WIDTH + Math.round(x)) * 3;
    rgb[i] = r;
    rgb[i + 1] = g;
    rgb[i + 2] = b;
  };
  const black: [number, number, number] = [0, 0, 0];
  const grey: [number, number, number] = [200, 200, 200];
  drawText(title, MARGIN, 15, 3, (x, y) => plot(x, y, black));

  const tMax = Math.max(1, ...seconds);
  const plotWidth = WIDTH - 2 * MARGIN;
  series.forEach((s, index) => {
    const top = MARGIN + index * (PANEL + MARGIN) + 20;
    const max = Math.max(1e-9, ...s.values) * 1.1;
    // Frame, half line, labels.
    for (let x = MARGIN; x <= MARGIN + plotWidth; x++) {
      plot(x, top, grey);
      plot(x, top + PANEL / 2, grey);
      plot(x, top + PANEL, black);
    }
    for (let y = top; y <= top + PANEL; y++) plot(MARGIN, y, black);
    drawText(`${s.label}   MAX ${formatNumber(Math.max(...s.values))}`, MARGIN, top - 16, 2, (x, y) => plot(x, y, s.color));
    drawText(formatNumber(max), 2, top, 1, (x, y) => plot(x, y, black));
    drawText('0', 2, top + PANEL - 5, 1, (x, y) => plot(x, y, black));
    drawText(`${Math.round(tMax)} S`, MARGIN + plotWidth - 20, top + PANEL + 6, 2, (x, y) => plot(x, y, black));
    // The line, joined point to point.
    let last: [number, number] | undefined;
    s.values.forEach((value, i) => {
      const x = MARGIN + ((seconds[i] ?? 0) / tMax) * plotWidth;
      const y = top + PANEL - (value / max) * PANEL;
      if (last) line(last[0], last[1], x, y, (px, py) => {
        plot(px, py, s.color);
        plot(px, py + 1, s.color);
      });
      last = [x, y];
    });
  });
  return encodePng(WIDTH, height, rgb);
}

function line(x0: number, y0: number, x1: number, y1: number, plot: (x: number, y: number) => void): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  for (let i = 0; i <= steps; i++) plot(x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * i) / steps);
}

function formatNumber(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}K`;
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}
