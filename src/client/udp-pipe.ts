import type dgram from 'node:dgram';
import type { Readable, Writable } from 'node:stream';
import { ConnectionError, systemCode } from '../errors.js';

export interface UdpPipeOptions {
  /** Bytes of input per datagram (the last may be shorter). */
  datagramSize: number;
  /** How long a datagram's echo may take before it is sent again. */
  timeoutMs: number;
  /** Times a datagram is sent again before it counts as lost. */
  retries: number;
  /** Told of every datagram sent and received (`--hexdump`). */
  watch?: DatagramWatch;
}

export interface DatagramWatch {
  sent(bytes: Buffer): void;
  received(bytes: Buffer): void;
}

export interface UdpPipeResult {
  /** Datagrams the input made. */
  datagrams: number;
  /** Bytes of input, all of them sent. */
  sent: number;
  /** Bytes echoed exactly and written to the output. */
  received: number;
  /** Datagrams sent again after `timeoutMs` without their echo. */
  resent: number;
  /** Datagrams with no echo after every retry. */
  lost: number;
  /** Echoes that matched no datagram in flight: duplicates, late echoes of datagrams done, or altered ones. */
  ignored: number;
}

/** Datagrams sent and not yet echoed (or given up), at most: the window. */
export const MAX_IN_FLIGHT = 64;

interface Slot {
  data: Buffer;
  sentAt: number;
  tries: number;
  /** 'echoed': an echo equal to `data` came; 'lost': every retry timed out. */
  state: 'waiting' | 'echoed' | 'lost';
}

/**
 * Sends `input` in datagrams of `datagramSize` bytes, at most MAX_IN_FLIGHT unanswered, and
 * writes the echo to `output` in input order. The payload carries no framing, so an echo is
 * matched by content: it is the echo of the oldest datagram in flight whose bytes it equals (an
 * echo equal to none is ignored: a duplicate, a late one, or an altered one). Datagrams with equal
 * bytes are interchangeable, so a match is never wrong about the bytes, and what is written is
 * always the client's own copy of them: no duplicate is written twice and no byte is ever wrong.
 * A datagram without its echo for `timeoutMs` is sent again, up to `retries` times, then counts
 * as lost: the output then stops before it (it holds an exact prefix of the input) while the
 * rest is still sent and counted. Resolves with the counts; `lost > 0` means the echo was not
 * complete. Rejects with TCPECHO_ERR_CONNECTION when there is no server (ICMP port unreachable)
 * or the input or output fails.
 */
export function udpPipe(socket: dgram.Socket, input: Readable, output: Writable, options: UdpPipeOptions): Promise<UdpPipeResult> {
  const { datagramSize, timeoutMs, retries, watch } = options;
  const counts: UdpPipeResult = { datagrams: 0, sent: 0, received: 0, resent: 0, lost: 0, ignored: 0 };
  const window: Slot[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let inputEnded = false;
  let outputFull = false;
  let writing = true;
  let failure: Error | undefined;

  return new Promise((resolve, reject) => {
    const tick = setInterval(checkTimeouts, Math.max(10, Math.min(100, timeoutMs / 4)));

    let finished = false;
    function done(): void {
      if (finished) return;
      finished = true;
      clearInterval(tick);
      socket.off('message', socketOnMessage);
      socket.off('error', socketOnError);
      input.off('data', inputOnData);
      input.off('end', inputOnEnd);
      input.off('error', streamOnError);
      output.off('error', streamOnError);
      output.off('drain', outputOnDrain);
      if (failure !== undefined) return reject(failure);
      // Resolved once the output has taken every byte written (a pipe to a slow reader).
      if (output.writableNeedDrain) output.once('drain', () => resolve(counts));
      else resolve(counts);
    }

    function fail(err: Error): void {
      failure ??= err;
      input.pause();
      done();
    }

    function socketOnError(err: Error): void {
      fail(
        systemCode(err) === 'ECONNREFUSED'
          ? new ConnectionError('No UDP echo server there (ICMP port unreachable, ECONNREFUSED)', { cause: err })
          : new ConnectionError(`UDP error: ${err.message}`, { cause: err }),
      );
    }

    function streamOnError(err: Error): void {
      fail(new ConnectionError(`Input or output failed: ${err.message}`, { cause: err }));
    }

    function send(slot: Slot): void {
      slot.sentAt = performance.now();
      slot.tries++;
      watch?.sent(slot.data);
      socket.send(slot.data, (err) => err && socketOnError(err));
    }

    /** Cuts what has been read into datagrams while the window has room. */
    function fill(): void {
      while (window.length < MAX_IN_FLIGHT && (pendingBytes >= datagramSize || (inputEnded && pendingBytes > 0))) {
        const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
        const data = all.subarray(0, datagramSize);
        const rest = all.subarray(data.length);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        const slot: Slot = { data, sentAt: 0, tries: 0, state: 'waiting' };
        window.push(slot);
        counts.datagrams++;
        counts.sent += data.length;
        send(slot);
      }
      // Reading goes on while less than a datagram is waiting to be cut.
      if (!inputEnded && pendingBytes < datagramSize && !outputFull) input.resume();
      else input.pause();
      if (inputEnded && pendingBytes === 0 && window.length === 0) done();
    }

    /** Retires the finished datagrams at the window's start, writing the echoed ones in order. */
    function advance(): void {
      while (window.length > 0 && (window[0] as Slot).state !== 'waiting') {
        const slot = window.shift() as Slot;
        if (slot.state === 'lost') writing = false;
        if (slot.state === 'echoed' && writing) {
          counts.received += slot.data.length;
          if (!output.write(slot.data)) outputFull = true;
        }
      }
      if (outputFull) input.pause();
      else fill();
    }

    function socketOnMessage(message: Buffer): void {
      watch?.received(message);
      const slot = window.find((s) => s.state === 'waiting' && s.data.length === message.length && s.data.equals(message));
      if (slot === undefined) {
        counts.ignored++;
        return;
      }
      slot.state = 'echoed';
      advance();
    }

    function checkTimeouts(): void {
      const now = performance.now();
      let changed = false;
      for (const slot of window) {
        if (slot.state !== 'waiting' || now - slot.sentAt < timeoutMs) continue;
        if (slot.tries > retries) {
          slot.state = 'lost';
          counts.lost++;
          changed = true;
        } else {
          counts.resent++;
          send(slot);
        }
      }
      if (changed) advance();
    }

    function inputOnData(chunk: Buffer): void {
      pending.push(chunk);
      pendingBytes += chunk.length;
      fill();
    }

    function inputOnEnd(): void {
      inputEnded = true;
      fill();
    }

    function outputOnDrain(): void {
      outputFull = false;
      advance();
    }

    socket.on('message', socketOnMessage);
    socket.on('error', socketOnError);
    input.on('data', inputOnData);
    input.once('end', inputOnEnd);
    input.on('error', streamOnError);
    output.on('error', streamOnError);
    output.on('drain', outputOnDrain);
    fill();
  });
}
