import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { ConnectionError, ShortEchoError, systemCode } from '../errors.js';

export interface PipeResult {
  /** Bytes read from the input and sent. */
  sent: number;
  /** Bytes echoed back and written to the output. */
  received: number;
}

/**
 * Streams `input` to the server and the echo to `output`, byte for byte and with backpressure
 * both ways. At the end of the input the sending side is half-closed; resolves once the server
 * has closed and every byte has come back and been flushed to `output`. Rejects with
 * `TCPECHO_ERR_SHORT_ECHO` when the server closed with bytes still owed, and
 * `TCPECHO_ERR_CONNECTION` when the connection failed.
 */
export function pipeThrough(socket: net.Socket, input: Readable, output: Writable): Promise<PipeResult> {
  return new Promise((resolve, reject) => {
    let inputEnded = false;
    let failure: Error | undefined;

    input.on('end', () => {
      inputEnded = true;
    });
    input.on('error', (err) => {
      failure ??= new ConnectionError(`Cannot read the input: ${err.message}`, { cause: err });
      socket.destroy();
    });
    output.on('error', (err) => {
      failure ??= new ConnectionError(`Cannot write the output: ${systemCode(err) ?? err.message}`, { cause: err });
      socket.destroy();
    });
    socket.on('error', (err) => {
      failure ??= connectionFailure(err);
    });
    // The server is done sending. If the input has not ended, the server quit early: stop, and
    // let 'close' report the bytes still owed.
    socket.once('end', () => {
      if (!inputEnded) socket.destroy();
    });
    socket.once('close', () => {
      input.unpipe(socket);
      input.pause();
      if (failure) return reject(failure);
      const sent = socket.bytesWritten;
      const received = socket.bytesRead;
      if (!inputEnded || received < sent) {
        const more = inputEnded ? '' : ' before the input ended';
        return reject(new ShortEchoError(`The server closed the connection${more} after echoing ${received} of ${sent} bytes`));
      }
      // Every echo was handed to `output`; an empty write calls back once all before it are flushed.
      output.write(Buffer.alloc(0), () => resolve({ sent, received }));
    });

    // `pipe` pauses the reader when the writer is full, and ends the socket (a half-close, thanks
    // to allowHalfOpen) when the input ends.
    input.pipe(socket);
    socket.pipe(output, { end: false });
  });
}

export function connectionFailure(err: Error): ConnectionError {
  const code = systemCode(err);
  if (code === 'ECONNRESET') return new ConnectionError('The server reset the connection (ECONNRESET)', { cause: err });
  if (code === 'EPIPE') return new ConnectionError('The server closed the connection while we were still sending (EPIPE)', { cause: err });
  return new ConnectionError(`The connection failed: ${code ?? err.message}`, { cause: err });
}
