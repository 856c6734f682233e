import type net from 'node:net';
import { systemCode } from '../errors.js';
import type { HexdumpTap } from '../hexdump.js';
import { adoptWithOnread } from './adopt-socket.js';
import { FULL_READ, type EchoContext } from './echo-context.js';
import type { TlsDetails } from './tls/tls-acceptor.js';
import { echoFaultNames, hasEchoFaults, type Faults } from './faults/faults.js';
import { FaultyEcho } from './faults/faulty-echo.js';

/**
 * Why a connection ended:
 * - `eof`: the client half-closed, everything it sent was echoed, then the server ended its side;
 * - `reset`: the client reset the connection (ECONNRESET);
 * - `error`: another socket error (`errorCode` says which);
 * - `idle`: no traffic either way for `idleTimeoutMs`;
 * - `aborted`: the server destroyed it (shutdown past the drain deadline, or `destroy()`);
 * - `child-exit`: fork mode only, the child serving it exited before reporting (killed, crashed);
 * - `handoff-failed`: fork mode only, the child could not take the connection over;
 * - `gone`: fork mode and the cluster primary, the client left (FIN or reset) while it waited for a process;
 * - `tls-error`: the TLS handshake failed or timed out (`errorCode` says why); nothing was echoed;
 * - `proxy-error`: with the PROXY protocol, the header was missing, malformed, truncated or late
 *   (`errorCode` says what); nothing was echoed;
 * - `denied`: with the PROXY protocol, `allow`/`deny` refused the client address of the header.
 */
export type CloseReason = 'eof' | 'reset' | 'error' | 'idle' | 'aborted' | 'child-exit' | 'handoff-failed' | 'gone' | 'tls-error' | 'proxy-error' | 'denied';

/** What one connection did, reported when it has closed. */
export interface EchoResult {
  /** Bytes received from the client. */
  bytesRead: number;
  /** Bytes echoed back and handed to the kernel. */
  bytesWritten: number;
  durationMs: number;
  reason: CloseReason;
  /**
   * The system error code (`ECONNRESET`, `EPIPE`, ...) when the reason is an error; for
   * `tls-error`, Node's or OpenSSL's (`ERR_SSL_HTTP_REQUEST`, `ERR_TLS_HANDSHAKE_TIMEOUT`,
   * `NO_CLIENT_CERT`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, ...).
   */
  errorCode?: string;
  /** A TLS connection's protocol, cipher, ALPN and client certificate subject. */
  tls?: TlsDetails;
  /** The echo faults that acted on this connection, in the order they apply (`delay`, `chunk`, ...). */
  faults?: string[];
  /** With the PROXY protocol, once the header is read: the client's address and port it carried (a LOCAL header: the balancer's own). */
  remoteAddress?: string;
  remotePort?: number;
  /** With the PROXY protocol: the balancer's address and port (the TCP peer). */
  proxyAddress?: string;
  proxyPort?: number;
  /** The v2 header's ALPN (0x01) and authority (0x02) TLVs, when it had them. */
  proxyAlpn?: string;
  proxyAuthority?: string;
}

export type EchoDone = (result: EchoResult) => void;

// Per-connection state lives on the socket under a symbol so that the listeners below are shared
// module-level functions: no closure per listener per connection (the ws approach).
const kEcho = Symbol('tcpecho.echo');

interface EchoState {
  startedAt: number;
  sawEnd: boolean;
  idleTimeoutMs: number;
  /** Set once the idle timer has fired: the timer that destroys the socket if ending it stalls. */
  idleReaper: NodeJS.Timeout | undefined;
  errorCode: string | undefined;
  done: EchoDone;
  /** A pool buffer this connection alone reads into next (its last read was long), else undefined. */
  bulkBuffer: Buffer | undefined;
  context: EchoContext;
  /** Drawn at accept: faults apply when it is below the `faultRate` in force. */
  faultDraw: number;
  /** Set once faults have acted: from then on it decides when the echo leaves. */
  faulty: FaultyEcho | undefined;
  faultNames: Set<string> | undefined;
  /** With `--hexdump`: the dump every chunk goes through, both ways. */
  dump: HexdumpTap | undefined;
  /** A read this long means the client streams in bulk: Nagle comes back (see echoChunk). */
  bulkRead: number;
}

/**
 * The most a TLS socket hands over at once: one record's plaintext (RFC 8446: 2^14 bytes), so
 * a TLS stream never reads FULL_READ at a time.
 */
const TLS_FULL_READ = 16_384;

type EchoSocket = net.Socket & { [kEcho]: EchoState };

/**
 * Echoes everything `socket` sends back to it, byte for byte, until the client is done, then
 * calls `done` once with what happened. Returns the socket that serves the connection: a new one
 * reading into `context`'s buffers (shared, or pooled while it streams) when `socket` had not
 * been read yet and `context.adopt` is on (see adopt-socket.ts), else `socket` itself. The
 * connection must be half-open capable: on the client's FIN the echo of what is still queued
 * completes and only then does this side end.
 *
 * Memory stays bounded whatever the peer does: when the kernel will not take more (the client
 * does not read), reading stops until `'drain'`.
 *
 * With `dump`, every chunk received and its echo go through it first, and reading also stops
 * while the dump's stream (stderr) will not take more: a slow terminal slows the echo rather than
 * growing the process. Such a connection is served the stream way; without one, nothing is
 * added per chunk.
 */
export function echoConnection(socket: net.Socket, context: EchoContext, done: EchoDone, idleTimeoutMs = 0, dump?: HexdumpTap): net.Socket {
  const state: EchoState = {
    startedAt: performance.now(), sawEnd: false, idleTimeoutMs, idleReaper: undefined, errorCode: undefined, done, bulkBuffer: undefined, context,
    faultDraw: Math.random(), faulty: undefined, faultNames: undefined, dump, bulkRead: 'encrypted' in socket ? TLS_FULL_READ : FULL_READ,
  };
  // Node asks where the next read goes right after each read's callback. Node calls it without a
  // `this`, so this is the one closure per connection.
  const nextReadBuffer = (): Buffer => state.bulkBuffer ?? context.readBuffer;
  // A TLS socket reads through its own machinery (decrypting into buffers of its own): the stream way.
  const adopted = context.adopt && dump === undefined && !('encrypted' in socket) ? adoptWithOnread(socket, { buffer: nextReadBuffer, callback: socketOnRead }, true) : undefined;
  const echoSocket = (adopted ?? socket) as EchoSocket;
  echoSocket[kEcho] = state;
  context.open++;
  // An 'error' listener before any I/O: without one, a single client's reset takes the process down.
  echoSocket.on('error', socketOnError);
  if (adopted === undefined) {
    context.streamed++;
    // Sockets received over IPC are created with allowHalfOpen false: set before any I/O, so that
    // the client's FIN does not end our side while echoes are still queued.
    socket.allowHalfOpen = true;
    socket.on('data', dump === undefined ? socketOnData : socketOnDumpedData);
  } else {
    context.adopted++;
  }
  echoSocket.on('drain', dump === undefined ? socketOnDrain : socketOnDumpedDrain);
  echoSocket.on('end', socketOnEnd);
  echoSocket.on('close', socketOnClose);
  // Echo traffic is many small request/response exchanges: Nagle plus delayed ACK would stall each
  // partial segment for up to 40 ms.
  echoSocket.setNoDelay(true);
  if (idleTimeoutMs > 0) {
    // Node re-arms this timer on every read and write, at no cost per chunk to us.
    echoSocket.setTimeout(idleTimeoutMs);
    echoSocket.on('timeout', socketOnTimeout);
  }
  echoSocket.resume();
  return echoSocket;
}

/**
 * A read at least this long sends the connection's next read to a pool buffer of its own, which
 * its echo then writes from as it is. Below it, the copy out of the shared buffer comes from
 * Node's buffer slab and costs less than the pool's bookkeeping; from 4 KiB up each copy would be
 * a fresh allocation of its own (Node's slab serves only smaller ones), later garbage.
 */
const OWN_BUFFER_READ = 4096;

/**
 * The `onread` path: `length` bytes have arrived in `buffer`, the context's shared read buffer or
 * this connection's pool buffer. Returning false pauses reading.
 */
function socketOnRead(this: EchoSocket, length: number, buffer: Uint8Array): boolean {
  const state = this[kEcho];
  const context = state.context;
  if (context.faults !== undefined || state.faulty !== undefined) {
    const faulty = faultyEchoOf(this, state);
    if (faulty !== undefined) {
      // Held for a while: a copy, so that the buffer read into is free at once.
      const more = faulty.push(Buffer.from(buffer.subarray(0, length)));
      if (buffer !== context.readBuffer) {
        state.bulkBuffer = undefined;
        context.bulkBuffers.give(buffer as Buffer);
      }
      return more;
    }
  }
  let chunk: Buffer;
  let written: (() => void) | undefined;
  if (buffer === context.readBuffer) {
    // A copy, because the read buffer is shared by every connection and a write can keep its data
    // until the kernel takes it.
    chunk = Buffer.allocUnsafe(length);
    context.readBuffer.copy(chunk, 0, 0, length);
  } else {
    // Our own pool buffer: the write takes it as it is, and holds it until the kernel has taken
    // it (or the write has failed); only then does it go back to the pool.
    const owned = buffer as Buffer;
    state.bulkBuffer = undefined;
    chunk = owned.subarray(0, length);
    written = () => context.bulkBuffers.give(owned);
  }
  let more: boolean;
  // The echo of a short read waits for the end of the event loop's turn, while more than one
  // connection is open. A short read is the last one libuv makes on that socket in this poll
  // phase, so nothing of the connection can arrive before the batch is flushed; any direct write
  // or end() flushes it first all the same, so the order of a connection's bytes never depends on
  // that. A write the kernel would not take pauses reading until 'drain', as a direct one does.
  // With one connection there is nothing to batch its echoes with, and the hold only costs: a
  // fork child always, event mode under one client (README, "Performance").
  if (length < FULL_READ && context.open > 1) {
    context.writes.add(this, chunk, written);
    context.held++;
    more = true;
  } else {
    more = echoChunk(this, chunk, written);
  }
  // A long read means more of the same is likely: the next read goes into a pool buffer of our
  // own instead of through the shared one and a copy (under a bulk stream the copy was a tenth
  // of the server's CPU). A short read goes back to the shared buffer, so a quiet connection
  // holds none; past the pool's limit reads go through the shared buffer as well.
  if (length >= OWN_BUFFER_READ) state.bulkBuffer = context.bulkBuffers.take();
  return more;
}

function socketOnData(this: EchoSocket, chunk: Buffer): void {
  const state = this[kEcho];
  const faulty = state.context.faults !== undefined || state.faulty !== undefined ? faultyEchoOf(this, state) : undefined;
  if (faulty !== undefined) {
    if (!faulty.push(chunk)) this.pause();
    return;
  }
  if (!echoChunk(this, chunk)) this.pause();
}

/** The faults that apply to this connection now, if any. */
function faultsFor(state: EchoState): Faults | undefined {
  const faults = state.context.faults;
  if (!hasEchoFaults(faults) || state.faultDraw >= (faults.faultRate ?? 1)) return undefined;
  return faults;
}

/**
 * The faulty echo this read goes through, or undefined for the plain one. Once faults have acted
 * and still hold bytes (or have closed, reset or stalled the connection), every read goes through
 * it, so bytes never overtake each other when faults are cleared.
 */
function faultyEchoOf(socket: EchoSocket, state: EchoState): FaultyEcho | undefined {
  const faults = faultsFor(state);
  if (faults === undefined && state.faulty?.engaged !== true) return undefined;
  if (faults !== undefined) {
    state.faultNames ??= new Set();
    for (const name of echoFaultNames(faults)) state.faultNames.add(name);
  }
  if (state.faulty === undefined) {
    // What the plain path still holds goes first.
    state.context.writes.flush();
    const dump = state.dump;
    state.faulty = new FaultyEcho(socket, () => faultsFor(state) ?? {}, {
      pause: () => socket.pause(),
      // Not while the dump's stream is full: its room resumes it.
      resume: () => {
        if (dump?.full !== true) socket.resume();
      },
    }, dump === undefined ? undefined : (piece) => dump.sent(piece));
  }
  return state.faulty;
}

/**
 * `--hexdump`: the chunk and its echo are dumped, and reading pauses while either the socket or
 * the dump's stream is full; each one's drain resumes it only if the other has room. With faults,
 * the chunk is dumped as it arrives and each piece of its echo as the faulty echo writes it.
 */
function socketOnDumpedData(this: EchoSocket, chunk: Buffer): void {
  const state = this[kEcho];
  const dump = state.dump as HexdumpTap;
  const dumpRoom = dump.received(chunk);
  const faulty = state.context.faults !== undefined || state.faulty !== undefined ? faultyEchoOf(this, state) : undefined;
  let echoed: boolean;
  if (faulty === undefined) {
    echoed = echoChunk(this, chunk);
    dump.sent(chunk);
  } else {
    echoed = faulty.push(chunk);
  }
  if (!(dumpRoom && echoed && !dump.full)) {
    this.pause();
    if (dump.full) dump.whenRoom(() => dumpOnRoom(this));
  }
}

function dumpOnRoom(socket: EchoSocket): void {
  const faulty = socket[kEcho].faulty;
  if (faulty !== undefined && !faulty.wantsReading) return;
  if (!socket.writableNeedDrain) socket.resume();
}

function socketOnDumpedDrain(this: EchoSocket): void {
  const state = this[kEcho];
  if (state.faulty !== undefined && !state.faulty.wantsReading) return;
  if (!(state.dump as HexdumpTap).full) this.resume();
}

/** Writes one chunk back; false when the kernel is full and reading should pause until 'drain'. */
function echoChunk(socket: EchoSocket, chunk: Buffer, written?: () => void): boolean {
  // TCP_NODELAY suits request/response traffic, but under a bulk stream each 64 KiB echo would
  // leave a tiny tail segment of its own (loopback MSS is just under 64 KiB); Nagle merges those
  // tails into the next write. Measured: stream c=4 64 KiB went from 0.85x to 1.2x the plain
  // server. setNoDelay is a no-op in JavaScript once it is off. Over TLS a full read is a full
  // record, and Nagle merges a stream's records into fewer segments, as Node's TLS server (Nagle
  // on throughout) does.
  if (chunk.length >= socket[kEcho].bulkRead) socket.setNoDelay(false);
  const writes = socket[kEcho].context.writes;
  if (writes.size > 0) writes.flush();
  return socket.write(chunk, written);
}

function socketOnDrain(this: EchoSocket): void {
  // A faulty echo decides for itself when reading goes on (never once stalled).
  const faulty = this[kEcho].faulty;
  if (faulty !== undefined && !faulty.wantsReading) return;
  this.resume();
}

function socketOnEnd(this: EchoSocket): void {
  const state = this[kEcho];
  state.sawEnd = true;
  // A faulty echo ends once its held bytes have gone.
  if (state.faulty !== undefined) return state.faulty.end();
  // end() rather than destroy(): it flushes every queued echo before the FIN. The held ones go
  // first.
  state.context.writes.flush();
  this.end();
}

function socketOnTimeout(this: EchoSocket): void {
  const state = this[kEcho];
  if (state.idleReaper !== undefined) return;
  // end() flushes whatever is queued, then sends our FIN. A client that never reads (a half-closed
  // one that went away, say) would keep that flush pending forever: one more idle period, then
  // the socket is destroyed.
  state.idleReaper = setTimeout(() => this.destroy(), state.idleTimeoutMs).unref();
  state.context.writes.flush();
  this.end();
}

function socketOnError(this: EchoSocket, err: Error): void {
  this[kEcho].errorCode = systemCode(err) ?? 'EUNKNOWN';
  // Node destroys the socket after 'error'; 'close' reports it.
}

function socketOnClose(this: EchoSocket): void {
  const state = this[kEcho];
  state.context.open--;
  clearTimeout(state.idleReaper);
  state.faulty?.dispose();
  // Nothing reads into it any more.
  if (state.bulkBuffer !== undefined) state.context.bulkBuffers.give(state.bulkBuffer);
  state.bulkBuffer = undefined;
  const { errorCode } = state;
  let reason: CloseReason;
  if (state.idleReaper !== undefined) reason = 'idle';
  else if (errorCode === 'ECONNRESET') reason = 'reset';
  else if (errorCode !== undefined) reason = 'error';
  else if (state.sawEnd) reason = 'eof';
  else reason = 'aborted';
  const result: EchoResult = {
    bytesRead: this.bytesRead,
    bytesWritten: this.bytesWritten,
    durationMs: performance.now() - state.startedAt,
    reason,
  };
  if (errorCode !== undefined) result.errorCode = errorCode;
  if (state.faultNames !== undefined) result.faults = [...state.faultNames];
  state.done(result);
}
