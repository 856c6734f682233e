import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { checkPeer, handshakeError, reasonOf, tlsConnect, tlsFailure, type TlsSettings } from '../client/tls.js';
import { systemCode } from '../errors.js';
import { firstDifference } from './payload.js';
import { outcomeOfError, probeDeadline, targetName, type Prober, type ProbeTarget } from './prober.js';
import type { ProbeFailed, ProbeResult } from './types.js';

/** How long a finished probe's connection may take to close cleanly (FIN both ways) before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * Probes over TCP or a Unix socket, or TLS on either with `tls`: by default a new connection per probe (connect, handshake,
 * write, read the whole echo, half-close); with `keep`, one connection for every probe until one
 * fails.
 */
export class TcpProber implements Prober {
  readonly #target: ProbeTarget;
  readonly #keep: boolean;
  readonly #tls: TlsSettings | undefined;
  /** The kept connection, between probes (`keep` only). */
  #kept: net.Socket | undefined;

  constructor(target: ProbeTarget, keep: boolean, tlsSettings?: TlsSettings) {
    this.#target = target;
    this.#keep = keep;
    this.#tls = tlsSettings;
  }

  #connect(): net.Socket {
    const { address: host, port, family, path } = this.#target;
    const options = path !== undefined ? { path, allowHalfOpen: true } : { host, port, family, allowHalfOpen: true, noDelay: true };
    return this.#tls === undefined ? net.connect(options) : tlsConnect(options, this.#tls);
  }

  probe(seq: number, payload: Buffer, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      // A kept connection the server closed or reset between probes is not reused.
      const reused = this.#kept !== undefined && !this.#kept.destroyed && this.#kept.readable ? this.#kept : undefined;
      if (reused === undefined) this.#kept?.destroy();
      this.#kept = undefined;
      const startedAt = performance.now();
      const socket = reused ?? this.#connect();
      const settings = this.#tls;
      let connectMs: number | undefined;
      let handshakeMs: number | undefined;
      let secured = reused !== undefined;
      let sentAt = 0;
      let received = 0;
      const deadline = probeDeadline(timeoutMs, signal, timerOnTimeout, signalOnAbort);

      const finish = (result: ProbeResult | undefined, keepOpen: boolean): void => {
        if (!deadline.settle()) return;
        socket.off('connect', socketOnConnect);
        socket.off('secureConnect', socketOnSecureConnect);
        socket.off('data', socketOnData);
        socket.off('end', socketOnEnd);
        socket.off('error', socketOnError);
        // A socket that is dropped can still emit an error; nobody would hear it otherwise.
        socket.on('error', ignore);
        if (keepOpen) {
          socket.pause();
          this.#kept = socket;
        } else if (result?.outcome === 'echoed') {
          closeCleanly(socket);
        } else {
          socket.destroy();
        }
        resolve(result);
      };
      const fail = (outcome: Omit<ProbeFailed, 'seq'>): void => {
        finish({ seq, ...outcome, ...(connectMs === undefined ? {} : { connectMs }) }, false);
      };

      function send(): void {
        sentAt = performance.now();
        socket.write(payload);
      }

      function socketOnConnect(): void {
        connectMs = performance.now() - startedAt;
        if (settings === undefined) send();
      }

      const socketOnSecureConnect = (): void => {
        secured = true;
        handshakeMs = performance.now() - startedAt - (connectMs ?? 0);
        const refused = checkPeer(socket as tls.TLSSocket, settings as TlsSettings, targetName(this.#target));
        if (refused !== undefined) return fail({ outcome: 'tls-error', errorCode: 'FINGERPRINT_MISMATCH', reason: refused.message });
        send();
      };

      const socketOnData = (chunk: Buffer): void => {
        const at = firstDifference(payload, chunk, received);
        if (at !== -1) return fail({ outcome: 'mismatch', offset: at });
        received += chunk.length;
        if (received < payload.length) return;
        const echoMs = performance.now() - sentAt;
        const tlsFields = settings === undefined ? {} : { tlsProtocol: (socket as tls.TLSSocket).getProtocol() ?? '?', ...(handshakeMs === undefined ? {} : { handshakeMs }) };
        finish({ seq, outcome: 'echoed', bytes: payload.length, ...(connectMs === undefined ? {} : { connectMs }), ...tlsFields, echoMs }, this.#keep);
      };

      function socketOnEnd(): void {
        fail({ outcome: 'closed', received });
      }

      const socketOnError = (err: Error): void => {
        // TLS's own failures: the handshake (after TCP connected), or an alert after it.
        if (settings !== undefined && connectMs !== undefined && !secured) {
          const why = handshakeError(err, targetName(this.#target), socket as tls.TLSSocket);
          return fail({ outcome: 'tls-error', errorCode: systemCode(err) ?? 'unknown', reason: why.message });
        }
        const alert = settings === undefined ? undefined : tlsFailure(err);
        if (alert !== undefined) return fail({ outcome: 'tls-error', errorCode: systemCode(err) ?? 'unknown', reason: reasonOf(err) });
        const { outcome, errorCode } = outcomeOfError(systemCode(err));
        fail({ outcome, ...(errorCode === undefined ? {} : { errorCode }), ...(outcome === 'reset' ? { received } : {}) });
      };

      function timerOnTimeout(): void {
        fail({ outcome: 'timeout', received });
      }

      function signalOnAbort(): void {
        finish(undefined, false);
      }

      socket.on('data', socketOnData);
      socket.on('end', socketOnEnd);
      socket.on('error', socketOnError);
      if (reused === undefined) {
        socket.once('connect', socketOnConnect);
        if (settings !== undefined) socket.once('secureConnect', socketOnSecureConnect);
      } else {
        socket.off('error', ignore);
        socket.resume();
        send();
      }
    });
  }

  close(): void {
    this.#kept?.destroy();
    this.#kept = undefined;
  }
}

/** Half-closes, lets the server answer with its FIN, and destroys the socket if it does not within CLOSE_GRACE_MS. */
function closeCleanly(socket: net.Socket): void {
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  socket.once('close', () => clearTimeout(timer));
  // Anything more the server sends is not looked at: the probe has its result. Nor does a
  // closing connection keep a program alive once ping() has resolved.
  socket.unref();
  socket.resume();
  socket.end();
}

function ignore(): void {}
