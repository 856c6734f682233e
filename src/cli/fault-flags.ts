import { UsageError } from '../errors.js';
import { startControlEndpoint, type ControlEndpoint, type FaultControl } from '../server/control.js';
import { checkFaults, FAULT_FIELDS, type Faults } from '../server/faults/faults.js';
import type { OptionValue } from '../options/table.js';

/** Where `--control-port` (and `--control-host`, default loopback) puts the fault API, or undefined without it. */
export function controlFromFlags(values: Record<string, OptionValue>): { port: number; host: string } | undefined {
  if (values.controlPort === undefined) return undefined;
  return { port: values.controlPort as number, host: (values.controlHost as string | undefined) ?? '127.0.0.1' };
}

/** The fault API of `server` (TCP or UDP) at `where`; when it cannot listen, the server is destroyed and the error thrown on. */
export async function startControlOrStop(server: FaultControl & { destroy(): Promise<void> }, where: { port: number; host: string }): Promise<ControlEndpoint> {
  try {
    return await startControlEndpoint(server, where);
  } catch (err) {
    await server.destroy();
    throw err;
  }
}

/**
 * The server's fault flags (already checked against the table) as the library's `faults`, or
 * undefined when none is given. `--chunk BYTES[:MS]` is parsed here.
 */
export function faultsFromFlags(values: Record<string, OptionValue>): Faults | undefined {
  const given: Record<string, unknown> = {};
  for (const key of FAULT_FIELDS) if (values[key] !== undefined) given[key] = values[key];
  if (typeof given.chunk === 'string') given.chunk = parseChunk(given.chunk);
  if (Object.keys(given).length === 0) return undefined;
  return checkFaults(given, '--');
}

function parseChunk(text: string): { bytes: number; intervalMs?: number } {
  const match = /^(\d{1,9})(?::(\d{1,6}))?$/.exec(text);
  const bytes = Number(match?.[1]);
  if (match === null || bytes < 1) throw new UsageError(`Expected \`--chunk\` to be BYTES or BYTES:MS (like 1024 or 1:10), got \`${text}\``);
  return match[2] === undefined ? { bytes } : { bytes, intervalMs: Number(match[2]) };
}
