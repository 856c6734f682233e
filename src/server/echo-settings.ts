import type { Faults } from './faults/faults.js';
import type { TlsSettings } from './tls/server-tls.js';

/**
 * What every process that echoes (the event process, each fork child, each cluster worker) needs
 * to serve a connection, as plain data: the accepting process sends it to its children over IPC.
 */
export interface EchoSettings {
  /** Close a connection idle this long; 0: never. */
  idleTimeoutMs: number;
  /** The TLS handshake must complete within this long. */
  handshakeTimeoutMs: number;
  /** Write every chunk received and sent to stderr in `hexdump -C` layout. */
  hexdump: boolean;
  /** TLS on every connection, or undefined for plain TCP. */
  tls: TlsSettings | undefined;
  /** The faults in force when the process starts; `setFaults` changes them later. */
  faults: Faults | undefined;
  /** Each connection starts with a PROXY protocol header, read before anything else (proxy-protocol.ts). */
  proxyProtocol?: boolean;
  /** With `proxyProtocol`: `allow`/`deny`, matched here against the client address the header carries. */
  allow?: string[];
  deny?: string[];
}

/** Settings with nothing on: a plain echo that never times out. */
export const PLAIN_ECHO: EchoSettings = { idleTimeoutMs: 0, handshakeTimeoutMs: 10_000, hexdump: false, tls: undefined, faults: undefined };
