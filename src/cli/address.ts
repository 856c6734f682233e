// Placeholder until the client's address parser lands: [HOST] [PORT], or a lone port.
import { parsePort } from '../options/values.js';

export function parseTarget(positionals: string[], defaults: { host: string; port: number }): { host: string; port: number } {
  const [first, second] = positionals;
  if (first !== undefined && second === undefined && /^\d+$/.test(first)) return { host: defaults.host, port: parsePort(first, 'PORT') };
  return { host: first ?? defaults.host, port: second === undefined ? defaults.port : parsePort(second, 'PORT') };
}
