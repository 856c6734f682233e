import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { closeQuietly } from '../client/udp-socket.js';
import { systemCode } from '../errors.js';
import { firstDifference, probePayload } from './payload.js';
import { outcomeOfError, probeDeadline, type Prober, type ProbeTarget } from './prober.js';
import type { ProbeResult } from './types.js';

/**
 * Probes over UDP: one datagram a probe, from a new socket (a new source port) each time, or with
 * `keep` from one socket for every probe until one fails. The socket is connected to the target,
 * so only its datagrams come in and an ICMP port unreachable comes back as `ECONNREFUSED`.
 *
 * A datagram is a message: its echo must be one datagram equal to the probe. On a kept socket a
 * second copy of an earlier probe's echo (the network or the server duplicated it) is that probe's
 * payload (each probe's bytes start at its own value, see payload.ts): it is recognised and
 * ignored, not a mismatch. A failed probe closes the kept socket, as over TCP.
 */
export class UdpProber implements Prober {
  readonly #target: ProbeTarget;
  readonly #keep: boolean;
  /** The kept socket, between probes (`keep` only). */
  #kept: dgram.Socket | undefined;

  constructor(target: ProbeTarget, keep: boolean) {
    this.#target = target;
    this.#keep = keep;
  }

  probe(seq: number, payload: Buffer, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const reused = this.#kept;
      const keep = this.#keep;
      this.#kept = undefined;
      const socket = reused ?? dgram.createSocket(this.#target.family === 6 ? 'udp6' : 'udp4');
      let sentAt = 0;
      const deadline = probeDeadline(timeoutMs, signal, timerOnTimeout, signalOnAbort);

      const finish = (result: ProbeResult | undefined, keepOpen: boolean): void => {
        if (!deadline.settle()) return;
        socket.off('message', socketOnMessage);
        socket.off('error', socketOnError);
        if (keepOpen) {
          socket.on('error', ignore);
          this.#kept = socket;
        } else {
          closeQuietly(socket);
        }
        resolve(result);
      };

      function send(): void {
        sentAt = performance.now();
        socket.send(payload, (err) => {
          if (err !== null && err !== undefined) socketOnError(err);
        });
      }

      function socketOnMessage(message: Buffer): void {
        if (isEarlierEcho(message, seq, payload.length)) return;
        let at = firstDifference(payload, message, 0);
        // A short datagram differs at its end: the byte that should have come next.
        if (at === -1 && message.length < payload.length) at = message.length;
        if (at !== -1) return finish({ seq, outcome: 'mismatch', offset: at }, false);
        finish({ seq, outcome: 'echoed', bytes: payload.length, echoMs: performance.now() - sentAt }, keep);
      }

      function socketOnError(err: Error): void {
        const { outcome, errorCode } = outcomeOfError(systemCode(err));
        finish({ seq, outcome, ...(errorCode === undefined ? {} : { errorCode }) }, false);
      }

      function timerOnTimeout(): void {
        finish({ seq, outcome: 'timeout', received: 0 }, false);
      }

      function signalOnAbort(): void {
        finish(undefined, false);
      }

      socket.on('message', socketOnMessage);
      socket.on('error', socketOnError);
      if (reused !== undefined) {
        socket.off('error', ignore);
        send();
      } else {
        socket.connect(this.#target.port, this.#target.address, send);
      }
    });
  }

  close(): void {
    if (this.#kept !== undefined) closeQuietly(this.#kept);
    this.#kept = undefined;
  }
}

/** Whether `message` is exactly the payload of one of the 255 probes before `seq` (a duplicated echo). */
function isEarlierEcho(message: Buffer, seq: number, size: number): boolean {
  if (message.length !== size || size === 0) return false;
  // Probe s's first byte is s & 0xff: that names the only earlier probe it can be.
  const back = (seq - (message[0] as number)) & 0xff;
  return back !== 0 && back < seq && message.equals(probePayload(seq - back, size));
}

function ignore(): void {}
