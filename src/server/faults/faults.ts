import { UsageError } from '../../errors.js';

/**
 * Faults on the echo, as a test double's peer would misbehave (Toxiproxy's toxics, on the echo
 * itself). Every field is optional; `{}` is a clean echo. Byte counts are of the echo: what the
 * server has written back.
 */
export interface Faults {
  /** Hold each echo this long, byte order kept. */
  delayMs?: number;
  /** Add a uniform random ±jitter to each delay (never below zero). */
  jitterMs?: number;
  /** Write each echo in pieces of at most `bytes`, `intervalMs` apart (0: the next turn of the event loop). */
  chunk?: { bytes: number; intervalMs?: number };
  /** Pace each connection's echo to this many kilobytes (1000 bytes) a second. */
  bandwidthKbps?: number;
  /** After echoing this many bytes of a connection, close it cleanly (FIN). */
  closeAfter?: number;
  /** After echoing this many bytes of a connection, reset it (RST). */
  resetAfter?: number;
  /** After echoing this many bytes, stop echoing and reading; the connection stays open. */
  stallAfter?: number;
  /** The share (0-1) of new connections reset at once after accept. */
  refuseRate?: number;
  /** Accepted connections wait this long before their first byte is read. */
  acceptDelayMs?: number;
  /** The share (0-1) of connections the echo faults apply to, drawn per connection at accept. @default 1 */
  faultRate?: number;
}

const DAY_MS = 86_400_000;
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

type Check = (value: unknown, name: string) => unknown;

const whole = (min: number, max: number): Check => (value, name) => {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new UsageError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got \`${show(value)}\``);
};

const share: Check = (value, name) => {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) return value;
  throw new UsageError(`Expected \`${name}\` to be a number from 0 to 1, got \`${show(value)}\``);
};

const chunk: Check = (value, name) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`Expected \`${name}\` to be { bytes, intervalMs }, got \`${show(value)}\``);
  }
  const { bytes, intervalMs, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new UsageError(`Unknown field \`${name}.${unknown}\`; expected \`bytes\` and \`intervalMs\``);
  const checked: { bytes: number; intervalMs?: number } = { bytes: whole(1, 64 * 2 ** 20)(bytes, `${name}.bytes`) as number };
  if (intervalMs !== undefined) checked.intervalMs = whole(0, 60_000)(intervalMs, `${name}.intervalMs`) as number;
  return checked;
};

/** Each field's check, in the order the faults apply (and are listed in logs). */
const FIELDS: Record<keyof Faults, Check> = {
  delayMs: whole(0, DAY_MS),
  jitterMs: whole(0, DAY_MS),
  bandwidthKbps: whole(1, 10_000_000),
  chunk,
  closeAfter: whole(0, MAX_BYTES),
  resetAfter: whole(0, MAX_BYTES),
  stallAfter: whole(0, MAX_BYTES),
  refuseRate: share,
  acceptDelayMs: whole(0, DAY_MS),
  faultRate: share,
};

export const FAULT_FIELDS = Object.keys(FIELDS) as Array<keyof Faults>;

/**
 * Checks faults given through the library or the control API: an unknown field or a bad value is
 * a `UsageError` naming it, and nothing is applied. Returns a copy holding only the fields given.
 */
export function checkFaults(input: unknown, prefix = ''): Faults {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UsageError(`Expected the faults to be an object, got \`${show(input)}\``);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const check = FIELDS[key as keyof Faults];
    if (check === undefined) throw new UsageError(`Unknown fault \`${prefix}${key}\`; expected one of ${FAULT_FIELDS.map((f) => `\`${f}\``).join(', ')}`);
    if (value === undefined) continue;
    out[key] = check(value, `${prefix}${key}`);
  }
  return out as Faults;
}

/**
 * The faults a datagram echo has: a delay (with jitter) on a share of datagrams. The rest act on
 * a connection or a stream (close, reset, stall, refuse, accept, pieces, a paced byte stream).
 */
export const UDP_FAULT_FIELDS: ReadonlyArray<keyof Faults> = ['delayMs', 'jitterMs', 'faultRate'];

/** `faultsInForce` for the UDP server: a fault it does not have is a `UsageError` saying so. */
export function udpFaultsInForce(input: unknown, prefix = ''): Faults | undefined {
  const faults = faultsInForce(input, prefix);
  const other = Object.keys(faults ?? {}).find((key) => !UDP_FAULT_FIELDS.includes(key as keyof Faults));
  if (other !== undefined) {
    throw new UsageError(`The fault \`${prefix}${other}\` does not apply to UDP: a datagram echo has ${UDP_FAULT_FIELDS.map((f) => `\`${prefix}${f}\``).join(', ')} only`);
  }
  return faults;
}

/** `checkFaults`, with no fault at all as undefined: what a context keeps, so the echo's check is one comparison. */
export function faultsInForce(input: unknown, prefix = ''): Faults | undefined {
  const checked = checkFaults(input, prefix);
  return Object.keys(checked).length === 0 ? undefined : checked;
}

/** The names of the echo faults in force, in the order they apply: `delay,chunk`. */
export function echoFaultNames(faults: Faults): string[] {
  const names: string[] = [];
  if (faults.delayMs !== undefined || faults.jitterMs !== undefined) names.push('delay');
  if (faults.bandwidthKbps !== undefined) names.push('bandwidth');
  if (faults.chunk !== undefined) names.push('chunk');
  if (faults.closeAfter !== undefined) names.push('close');
  if (faults.resetAfter !== undefined) names.push('reset');
  if (faults.stallAfter !== undefined) names.push('stall');
  return names;
}

/** Whether any fault acts on the echo itself (not only on accepting). */
export function hasEchoFaults(faults: Faults | undefined): faults is Faults {
  return faults !== undefined && echoFaultNames(faults).length > 0;
}

function show(value: unknown): string {
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
