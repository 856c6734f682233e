import type dgram from 'node:dgram';
import type { Pattern } from './pattern.js';
import type { Stats } from './stats.js';

/** The sequence number's bytes at the start of every payload. */
export const SEQ_BYTES = 8;
/** Sequence numbers remembered per flow once done, to tell a duplicate or late echo from garbage. */
const RING = 4096;
const ECHOED = 1;
const LOST = 2;

/** The UDP counts of a run (only datagrams sent while counting). */
export class UdpCounts {
  counting = false;
  /** Whether any datagram has been echoed, counted or not: a server is there. */
  anyEcho = false;
  sent = 0;
  echoed = 0;
  lost = 0;
  late = 0;
  duplicated = 0;
  reordered = 0;
}

export interface FlowContext {
  pattern: Pattern;
  size: number;
  timeoutMs: number;
  stats: Stats;
  counts: UdpCounts;
  /** An ICMP port unreachable or another socket error. */
  onSocketError(err: Error): void;
}

interface InFlight {
  at: number;
  counted: boolean;
}

/**
 * One flow of `bench --udp`: its own connected socket (its own source port), sending datagrams
 * of `size` bytes: a big-endian sequence number in the first 8 bytes, then the pattern at the
 * position the sequence number gives, so every byte of every echo can be checked, and an echo
 * names the datagram it answers. In closed loop (`next()` after each answer), one datagram is in
 * flight; with `--rate`, the clock calls `send()` and many may be.
 */
export class UdpFlow {
  readonly #socket: dgram.Socket;
  readonly #ctx: FlowContext;
  readonly #start: number;
  readonly #inFlight = new Map<number, InFlight>();
  readonly #ringSeq = new Float64Array(RING).fill(-1);
  readonly #ringState = new Uint8Array(RING);
  #nextSeq = 0;
  #highestEchoed = -1;
  /** Closed loop: send the next datagram when this one is answered or lost. */
  readonly #closedLoop: boolean;
  #stopped = false;

  constructor(socket: dgram.Socket, ctx: FlowContext, closedLoop: boolean) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#start = ctx.pattern.randomStart();
    this.#closedLoop = closedLoop;
    socket.on('message', (message) => this.#socketOnMessage(message));
    socket.on('error', (err) => ctx.onSocketError(err));
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** No more sending (what is in flight may still be answered or time out). */
  stop(): void {
    this.#stopped = true;
  }

  close(): void {
    try {
      this.#socket.close();
    } catch {
      // Closed already.
    }
  }

  send(): void {
    if (this.#stopped) return;
    const { size, pattern, counts, stats } = this.#ctx;
    const seq = this.#nextSeq++;
    const payload = Buffer.allocUnsafe(size);
    payload.writeUInt32BE(Math.floor(seq / 2 ** 32), 0);
    payload.writeUInt32BE(seq >>> 0, 4);
    pattern.window(this.#start, seq * (size - SEQ_BYTES), size - SEQ_BYTES).copy(payload, SEQ_BYTES);
    this.#inFlight.set(seq, { at: performance.now(), counted: counts.counting });
    if (counts.counting) counts.sent++;
    stats.sent(size);
    this.#socket.send(payload);
  }

  /** Datagrams in flight longer than the timeout are lost; in closed loop, the next goes out. */
  expire(now: number): void {
    const { timeoutMs, counts } = this.#ctx;
    let lost = 0;
    for (const [seq, sent] of this.#inFlight) {
      if (now - sent.at < timeoutMs) continue;
      this.#inFlight.delete(seq);
      this.#remember(seq, LOST);
      if (sent.counted) counts.lost++;
      lost++;
    }
    if (lost > 0 && this.#closedLoop && this.#inFlight.size === 0) this.send();
  }

  #remember(seq: number, state: number): void {
    const at = seq % RING;
    this.#ringSeq[at] = seq;
    this.#ringState[at] = state;
  }

  #socketOnMessage(message: Buffer): void {
    const { size, pattern, counts, stats } = this.#ctx;
    const seq = message.length >= SEQ_BYTES ? message.readUInt32BE(0) * 2 ** 32 + message.readUInt32BE(4) : -1;
    if (seq < 0 || seq >= this.#nextSeq) {
      return stats.recordError('mismatch', `an echo of ${message.length} bytes that names no datagram sent (sequence ${seq})`);
    }
    if (message.length !== size || !pattern.matches(this.#start, seq * (size - SEQ_BYTES), message.subarray(SEQ_BYTES))) {
      return stats.recordError('mismatch', `the echo of datagram ${seq} differs from what was sent (${message.length} of ${size} bytes)`);
    }
    const sent = this.#inFlight.get(seq);
    if (sent === undefined) {
      const known = this.#ringSeq[seq % RING] === seq ? this.#ringState[seq % RING] : LOST;
      if (counts.counting) {
        if (known === ECHOED) counts.duplicated++;
        else counts.late++;
      }
      // A second copy of a late echo is a duplicate.
      this.#remember(seq, ECHOED);
      return;
    }
    this.#inFlight.delete(seq);
    this.#remember(seq, ECHOED);
    counts.anyEcho = true;
    if (sent.counted) {
      counts.echoed++;
      if (seq < this.#highestEchoed) counts.reordered++;
    }
    if (seq > this.#highestEchoed) this.#highestEchoed = seq;
    stats.received(size);
    stats.recordMessage(performance.now() - sent.at);
    if (this.#closedLoop && this.#inFlight.size === 0) this.send();
  }
}
