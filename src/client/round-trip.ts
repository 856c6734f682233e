import type net from 'node:net';
import { ConnectionError, systemCode } from '../errors.js';
import { connectEcho, type ConnectOptions } from './connect.js';

/**
 * Sends `data` over a new connection, half-closes, and resolves with everything the server sent
 * back once it has closed its side. For tests of anything that speaks echo.
 */
export async function echoRoundTrip(data: Uint8Array, options: ConnectOptions = {}): Promise<Buffer> {
  const socket = await connectEcho(options);
  return collectEcho(socket, data);
}

/** Writes `data`, half-closes, and resolves with all that comes back before the peer's FIN. */
export function collectEcho(socket: net.Socket, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', (err) => {
      reject(new ConnectionError(`Connection failed: ${systemCode(err) ?? err.message}`, { cause: err }));
    });
    socket.end(data);
  });
}
