import dns from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { tlsSettings, type TlsSettings } from '../client/tls.js';
import { MAX_DATAGRAM } from '../client/udp-socket.js';
import { connectError, connectTimeoutError } from '../connect-errors.js';
import { UsageError } from '../errors.js';
import { resolveOptions } from '../options/resolve.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../options/table.js';
import { checkFamily, checkPort, formatAddress } from '../options/values.js';
import { probePayload } from './payload.js';
import { targetName, type Prober, type ProbeTarget } from './prober.js';
import { PingTally } from './summary.js';
import { TcpProber } from './tcp-prober.js';
import type { PingOptions, PingResult, ProbeTransport } from './types.js';
import { UdpProber } from './udp-prober.js';
import { nodeUnixPath, unixUrl } from '../unix-path.js';

/**
 * What `ping` is to ICMP, for an echo service: every `intervalMs`, a probe sends `size` bytes
 * (by default over a new TCP connection; to a Unix socket with `unix`; over TLS with `tls`, in one datagram with `udp`), waits
 * for their echo, checks every byte and times the connect, the TLS handshake and the echo. Stops after `count` probes, or when `signal` aborts (the probe in flight
 * is then dropped, not counted), and resolves with the summary and every probe.
 *
 * The host is resolved once, before the first probe, so that every probe reaches the same
 * address. Rejects with `TCPECHO_ERR_USAGE` for a bad option (or neither `count` nor `signal`:
 * it would never end), and with `TCPECHO_ERR_CONNECT` / `TCPECHO_ERR_CONNECT_TIMEOUT` when the
 * host cannot be resolved within `probeTimeoutMs`. A probe's failure is never a rejection: it is
 * that probe's outcome.
 *
 * @example
 * const result = await ping({ port: 7007, count: 3, intervalMs: 100 });
 * console.log(result.echoed, result.echo?.avg);
 */
export async function ping(options: PingOptions = {}): Promise<PingResult> {
  const o = resolveOptions('ping', options) as { intervalMs: number; size: number; count?: number; probeTimeoutMs: number; keep: boolean; udp: boolean; unix?: string };
  const host = options.host ?? DEFAULT_HOST;
  const port = checkPort(options.port ?? DEFAULT_PORT);
  const family = checkFamily(options.family, host);
  const { signal, onProbe, onStart } = options;
  if (o.count === undefined && signal === undefined) throw new UsageError('Give `count` or `signal`: without either, ping never ends');
  for (const [name, fn] of [['onProbe', onProbe], ['onStart', onStart]] as const) {
    if (fn !== undefined && typeof fn !== 'function') throw new UsageError(`Expected \`${name}\` to be a function, got \`${String(fn)}\``);
  }

  const tlsOption = options.tls;
  if (o.udp && tlsOption !== undefined && tlsOption !== false) throw new UsageError('`tls` does not apply with `udp: true`: a datagram has no TLS');
  const tls: TlsSettings | undefined = tlsOption === undefined || tlsOption === false ? undefined : tlsSettings(tlsOption);
  const transport: ProbeTransport = o.udp ? 'udp' : tls !== undefined ? 'tls' : o.unix !== undefined ? 'unix' : 'tcp';
  const named = o.unix === undefined ? formatAddress(host, port) : unixUrl(o.unix);

  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) stop.abort();
  const tally = new PingTally();
  let target: ProbeTarget | undefined;
  let interrupted = false;
  let startedAt = performance.now();
  let endedAt = startedAt;
  try {
    target = o.unix !== undefined
      ? { address: named, port: 0, family: 4, path: nodeUnixPath(o.unix) }
      : await resolveTarget(host, port, family, o.probeTimeoutMs, stop.signal);
    if (o.udp && o.size > MAX_DATAGRAM[target.family]) {
      throw new UsageError(`A UDP probe is one datagram: at most ${MAX_DATAGRAM[target.family]} bytes over IPv${target.family}, got a size of ${o.size}`);
    }
    if (!stop.signal.aborted) onStart?.(targetName(target));
    const prober: Prober = o.udp ? new UdpProber(target, o.keep) : new TcpProber(target, o.keep, tls);
    startedAt = performance.now();
    endedAt = startedAt;
    try {
      let nextAt = startedAt;
      for (let seq = 1; o.count === undefined || seq <= o.count; seq++) {
        if (seq > 1 && !(await sleepUntil(nextAt, stop.signal))) {
          interrupted = true;
          break;
        }
        const probeStart = performance.now();
        nextAt = probeStart + o.intervalMs;
        const probe = await prober.probe(seq, probePayload(seq, o.size), o.probeTimeoutMs, stop.signal);
        if (probe === undefined) {
          interrupted = true;
          break;
        }
        endedAt = performance.now();
        tally.add(probe);
        onProbe?.(probe);
      }
    } finally {
      prober.close();
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const connect = tally.connect.stats();
  const handshake = tally.handshake.stats();
  const echo = tally.echo.stats();
  return {
    target: named,
    address: target === undefined ? named : targetName(target),
    size: o.size,
    keep: o.keep,
    transport,
    sent: tally.sent,
    echoed: tally.echoed,
    lossPercent: tally.lossPercent(),
    failures: tally.failures,
    ...(connect === undefined ? {} : { connect }),
    ...(handshake === undefined ? {} : { handshake }),
    ...(echo === undefined ? {} : { echo }),
    durationMs: endedAt - startedAt,
    interrupted,
    probes: tally.probes,
    probesOmitted: tally.probesOmitted,
  };
}

/**
 * The address every probe goes to: the host itself when it is an IP literal, else its first
 * address of the family asked for, looked up once within `timeoutMs`. An abort during the lookup
 * resolves with the host as given (the run then sends no probe).
 */
async function resolveTarget(host: string, port: number, family: 4 | 6 | undefined, timeoutMs: number, signal: AbortSignal): Promise<ProbeTarget> {
  const literal = net.isIP(host);
  if (literal !== 0) return { address: host, port, family: literal as 4 | 6 };
  const where = formatAddress(host, port);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      dns.lookup(host, { family: family ?? 0 }).then(
        ({ address, family: found }) => ({ address, port, family: found as 4 | 6 }),
        (err: Error) => Promise.reject(connectError(err, host, where, family)),
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(connectTimeoutError(where, timeoutMs)), timeoutMs).unref();
      }),
      new Promise<ProbeTarget>((resolve) => {
        onAbort = () => resolve({ address: host, port, family: family ?? 4 });
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/** Waits until `performance.now()` reaches `at`; false when `signal` aborts first. */
function sleepUntil(at: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  const ms = at - performance.now();
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      resolve(false);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
