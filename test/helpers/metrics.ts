import http from 'node:http';
import { within } from './timeout.js';

/** GET `url`: the status and the body; bounded by `timeoutMs`. */
export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string; type: string }> {
  const got = new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
    const request = http.get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, type: String(response.headers['content-type']) }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
  return within(got, timeoutMs, `GET ${url}`);
}

/**
 * The samples of a Prometheus text page, keyed `name{label="v",...}` with the labels sorted and
 * `mode` left out (every series has it; the test checks it once).
 */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = (match[2] ?? '').split(',').filter((label) => label !== '' && !label.startsWith('mode=')).sort();
    samples.set(labels.length === 0 ? (match[1] as string) : `${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return samples;
}
