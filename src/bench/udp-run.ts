import dgram from 'node:dgram';
import { UsageError } from '../errors.js';
import { systemCode } from '../errors.js';
import { MAX_DATAGRAM, openUdpPeer } from '../client/udp-socket.js';
import { Pattern } from './pattern.js';
import { result } from './result.js';
import { Stats } from './stats.js';
import type { BenchOptions, BenchResult, UdpBenchFigures } from './types.js';
import { SEQ_BYTES, UdpCounts, UdpFlow, type FlowContext } from './udp-flow.js';

export interface UdpRunSettings {
  host: string;
  port: number;
  family: 4 | 6 | undefined;
  connections: number;
  size: number;
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
  rate: number | undefined;
  messageLimit: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: BenchOptions['onProgress'];
}

/**
 * `bench --udp`: `connections` flows of ping-pong datagrams (or, with `rate`, datagrams sent on a
 * clock spread over the flows), every byte checked. Loss is measured, not an error; a byte that
 * differs is a `mismatch` error; an ICMP port unreachable is a `connect` error (no server).
 */
export async function runUdpBench(s: UdpRunSettings): Promise<BenchResult> {
  if (s.size < SEQ_BYTES) throw new UsageError(`Expected \`size\` to be at least ${SEQ_BYTES} bytes with UDP (a sequence number leads every datagram), got \`${s.size}\``);
  const stats = new Stats();
  const counts = new UdpCounts();
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  s.signal?.addEventListener('abort', onAbort, { once: true });
  if (s.signal?.aborted) stop.abort();
  let refused = 0;
  const ctx: FlowContext = {
    pattern: new Pattern(s.size),
    size: s.size,
    timeoutMs: s.timeoutMs,
    stats,
    counts,
    onSocketError(err) {
      // Connected UDP: ICMP port unreachable comes back as ECONNREFUSED on the next operation.
      if (systemCode(err) === 'ECONNREFUSED') {
        if (refused++ === 0) stats.recordError('connect', `no UDP echo server at ${where} (ICMP port unreachable)`);
        // Nothing has ever come back: there is no server to measure, and the run ends now.
        if (!counts.anyEcho) stop.abort();
      } else {
        stats.recordError('error', err.message);
      }
    },
  };
  const first = await openUdpPeer(s.host, s.port, s.family);
  const where = first.where;
  const max = MAX_DATAGRAM[first.family];
  if (s.size > max) {
    first.socket.close();
    throw new UsageError(`Expected \`size\` to be at most ${max} bytes over UDP/IPv${first.family}, got \`${s.size}\``);
  }
  const sockets: dgram.Socket[] = [first.socket];
  const flows: UdpFlow[] = [];
  let ticker: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let progress: NodeJS.Timeout | undefined;
  const [address] = where.startsWith('[') ? [where.slice(1, where.lastIndexOf(']'))] : [where.slice(0, where.lastIndexOf(':'))];
  try {
    while (sockets.length < s.connections) {
      const socket = dgram.createSocket(first.family === 4 ? 'udp4' : 'udp6');
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(s.port, address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    }
    for (const socket of sockets) flows.push(new UdpFlow(socket, ctx, s.rate === undefined));

    watchdog = setInterval(() => {
      const now = performance.now();
      for (const flow of flows) flow.expire(now);
    }, Math.max(10, Math.min(250, s.timeoutMs / 4)));

    if (s.rate === undefined) {
      for (const flow of flows) flow.send();
    } else {
      ticker = startClock(flows, s.rate);
    }
    await phase(s.warmupMs, stop.signal, () => false);
    stats.startWindow();
    counts.counting = true;
    if (s.onProgress) {
      const report = s.onProgress;
      progress = setInterval(() => report({ elapsedS: stats.elapsedS(), messages: stats.messages, errors: stats.errorCount }), 1000);
    }
    const limit = s.messageLimit;
    // A count that stops growing for timeoutMs will not be reached (every datagram lost): the
    // window ends, and the loss says why.
    let counted = stats.messages;
    let countedAt = performance.now();
    const stalled = (): boolean => {
      const now = performance.now();
      if (stats.messages !== counted) [counted, countedAt] = [stats.messages, now];
      return now - countedAt > Math.max(s.timeoutMs, 1000);
    };
    if (limit === undefined) await phase(s.durationMs, stop.signal, () => false);
    else await phase(undefined, stop.signal, () => stats.messages >= limit || stalled());
    stats.endWindow();
    clearInterval(ticker);
    clearInterval(progress);
    for (const flow of flows) flow.stop();
    // What was sent in the window is answered or lost by timeoutMs: then every count is final.
    const noServer = refused > 0 && !counts.anyEcho;
    if (!noServer) await phase(s.timeoutMs + 50, new AbortController().signal, () => flows.every((flow) => flow.inFlight === 0));
    const now = performance.now() + s.timeoutMs;
    for (const flow of flows) flow.expire(now);
    counts.counting = false;
  } finally {
    clearInterval(ticker);
    clearInterval(watchdog);
    clearInterval(progress);
    s.signal?.removeEventListener('abort', onAbort);
    for (const flow of flows) flow.close();
    for (const socket of sockets.slice(flows.length)) socket.close();
  }
  const udp: UdpBenchFigures = {
    sent: counts.sent,
    echoed: counts.echoed,
    lost: counts.lost,
    late: counts.late,
    duplicated: counts.duplicated,
    reordered: counts.reordered,
    lossRate: counts.sent === 0 ? 0 : counts.lost / counts.sent,
    ...(s.rate === undefined ? {} : { rate: s.rate }),
  };
  const shape = {
    mode: 'pingpong' as const, target: `udp ${where}`, transport: 'udp' as const, tls: false, tlsResume: false, rate: s.rate,
    connections: s.connections, size: s.size, pipeline: 1, interrupted: s.signal?.aborted === true,
  };
  return { ...result(stats, shape), udp };
}

/** Open loop: `rate` datagrams a second in all, on a clock, each from the next flow in turn. */
function startClock(flows: UdpFlow[], rate: number): NodeJS.Timeout {
  const began = performance.now();
  let sent = 0;
  let next = 0;
  return setInterval(() => {
    const due = Math.floor(((performance.now() - began) * rate) / 1000);
    // A stalled loop does not send a burst to catch up past one tick's worth of a second.
    for (let n = Math.min(due - sent, Math.ceil(rate / 10)); n > 0; n--) {
      (flows[next] as UdpFlow).send();
      next = (next + 1) % flows.length;
    }
    sent = due;
  }, 2);
}

/** Waits `ms` (without end when undefined), or less: until `done()` or the signal. */
function phase(ms: number | undefined, signal: AbortSignal, done: () => boolean): Promise<void> {
  if (ms === 0 || signal.aborted || done()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = ms === undefined ? undefined : setTimeout(end, ms);
    const poll = setInterval(() => done() && end(), 5);
    signal.addEventListener('abort', end, { once: true });
    function end(): void {
      clearTimeout(timer);
      clearInterval(poll);
      signal.removeEventListener('abort', end);
      resolve();
    }
  });
}
