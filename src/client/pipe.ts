import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { ConnectionError, EchoMismatchError, ShortEchoError, systemCode, type TcpechoError } from '../errors.js';
import { halfClose } from '../half-close.js';
import { tlsFailure } from './tls.js';
import { UnechoedBytes } from './unechoed.js';

export interface PipeResult {
  /** Bytes read from the input and sent. */
  sent: number;
  /** Bytes echoed back, checked, and written to the output. */
  received: number;
}

/**
 * Reading the input pauses while more than this has been sent and not echoed: the bytes kept
 * for checking stay bounded whatever the server does (one that reads and never echoes included).
 */
export const MAX_UNECHOED_BYTES = 4 * 1024 * 1024;

/**
 * Streams `input` to the server and the echo to `output`, with backpressure both ways, and
 * checks every echoed byte against the byte sent at that offset. At the end of the input the
 * sending side is half-closed; resolves once the server has closed and every byte has come back
 * and been flushed to `output`. Rejects with `TCPECHO_ERR_ECHO_MISMATCH` at the first byte that
 * differs (the output then holds the echo up to that byte), `TCPECHO_ERR_SHORT_ECHO` when the
 * server closed with bytes still owed, and `TCPECHO_ERR_CONNECTION` when the connection, the
 * input or the output failed.
 */
export function pipeThrough(socket: net.Socket, input: Readable, output: Writable): Promise<PipeResult> {
  return new Promise((resolve, reject) => {
    const unechoed = new UnechoedBytes();
    let sent = 0;
    let received = 0;
    let inputEnded = false;
    let socketFull = false;
    let failure: Error | undefined;
    let outputFailed = false;

    function fail(err: Error): void {
      failure ??= err;
      socket.destroy();
    }

    function resumeInputIfRoom(): void {
      if (!inputEnded && !socketFull && failure === undefined && unechoed.length <= MAX_UNECHOED_BYTES) input.resume();
    }

    function inputOnData(chunk: Buffer): void {
      if (failure !== undefined) return;
      // Kept before it is written, so no echo can arrive for bytes not yet on record.
      unechoed.push(chunk);
      sent += chunk.length;
      if (!socket.write(chunk)) socketFull = true;
      if (socketFull || unechoed.length > MAX_UNECHOED_BYTES) input.pause();
    }

    function inputOnEnd(): void {
      inputEnded = true;
      // A half-close, thanks to allowHalfOpen: the echo can still come back. (This runs in the
      // echo's 'data' callback when the input was waiting for room: see halfClose.)
      halfClose(socket);
    }

    function inputOnError(err: Error): void {
      fail(new ConnectionError(`Cannot read the input: ${err.message}`, { cause: err }));
    }

    function socketOnDrain(): void {
      socketFull = false;
      resumeInputIfRoom();
    }

    function socketOnData(chunk: Buffer): void {
      if (failure !== undefined) return;
      const matched = unechoed.consume(chunk);
      const good = matched === chunk.length ? chunk : chunk.subarray(0, matched);
      received += matched;
      const outputFull = matched > 0 && !output.write(good);
      if (matched < chunk.length) {
        fail(new EchoMismatchError(received, unechoed.peek(), chunk[matched] as number));
        return;
      }
      if (outputFull) socket.pause();
      resumeInputIfRoom();
    }

    function socketOnError(err: Error): void {
      fail(connectionFailure(err));
    }

    // The server is done sending. If the input has not ended, the server quit early: stop, and
    // let 'close' report the bytes still owed.
    function socketOnEnd(): void {
      if (!inputEnded) socket.destroy();
    }

    function socketOnClose(): void {
      input.off('data', inputOnData);
      input.pause();
      output.off('drain', outputOnDrain);
      if (failure !== undefined) return afterOutput(() => reject(failure));
      if (!inputEnded || unechoed.length > 0) {
        const more = inputEnded ? '' : ' before the input ended';
        return afterOutput(() => reject(new ShortEchoError(`The server closed the connection${more} after echoing ${received} of ${sent} bytes`)));
      }
      afterOutput(() => resolve({ sent, received }));
    }

    function outputOnDrain(): void {
      socket.resume();
    }

    function outputOnError(err: Error): void {
      outputFailed = true;
      fail(new ConnectionError(`Cannot write the output: ${systemCode(err) ?? err.message}`, { cause: err }));
    }

    /** Runs `then` once every echo handed to `output` is flushed (at once if the output failed). */
    function afterOutput(then: () => void): void {
      if (outputFailed || output.destroyed) return then();
      // An empty write calls back once all before it are flushed.
      output.write(Buffer.alloc(0), () => then());
    }

    socket.on('error', socketOnError);
    input.on('error', inputOnError);
    output.on('error', outputOnError);
    socket.on('drain', socketOnDrain);
    socket.on('data', socketOnData);
    socket.once('end', socketOnEnd);
    socket.once('close', socketOnClose);
    output.on('drain', outputOnDrain);
    input.once('end', inputOnEnd);
    input.on('data', inputOnData);
  });
}

export function connectionFailure(err: Error): TcpechoError {
  const tls = tlsFailure(err);
  if (tls !== undefined) return tls;
  const code = systemCode(err);
  if (code === 'ECONNRESET') return new ConnectionError('The server reset the connection (ECONNRESET)', { cause: err });
  if (code === 'EPIPE') return new ConnectionError('The server closed the connection while we were still sending (EPIPE)', { cause: err });
  return new ConnectionError(`The connection failed: ${code ?? err.message}`, { cause: err });
}
