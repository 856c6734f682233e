/**
 * Every error tcpecho raises carries a stable `code`; tests and callers match on it, never on
 * the message. The CLI maps `UsageError`, `TlsConfigError`, `InheritedSocketError` and `MergeError` to exit code 2 and every other `TcpechoError` to 1.
 */
export class TcpechoError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A passed-in descriptor (socket activation, `--listen-fd`) that is not a listening stream socket: exit code 2 on the CLI. */
export class InheritedSocketError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_INHERITED_SOCKET', message, options);
  }
}

/** An option value that cannot be used: the caller's mistake, exit code 2 on the CLI. */
export class UsageError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_USAGE', message, options);
  }
}

/** The address is already bound by another socket (EADDRINUSE). */
export class AddressInUseError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_ADDRESS_IN_USE', message, options);
  }
}

/** The process may not bind that address, usually a port below 1024 as non-root (EACCES). */
export class PermissionDeniedError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_PERMISSION_DENIED', message, options);
  }
}

/** Any other failure to bind or listen. */
export class ListenError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_LISTEN', message, options);
  }
}

/**
 * A TLS certificate, key or CA that cannot be used (missing, not PEM, a key that does not match
 * its certificate): the caller's mistake, exit code 2 on the CLI, before anything listens.
 */
export class TlsConfigError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_TLS_CONFIG', message, options);
  }
}

/** Cluster mode: workers kept exiting before they were ready, so the server could not start. */
export class WorkerStartError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_WORKER_START', message, options);
  }
}

/** No connection was established within the connect timeout. */
export class ConnectTimeoutError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_CONNECT_TIMEOUT', message, options);
  }
}

/** The connection could not be established (refused, unknown host, unreachable, ...). */
export class ConnectError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_CONNECT', message, options);
  }
}

/** The server's certificate was refused: an unknown authority, a hostname mismatch, expired, a fingerprint that is not the pinned one. */
export class TlsVerifyError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_TLS_VERIFY', message, options);
  }
}

/** The TLS handshake failed for another reason: an alert from the server, a peer that does not speak TLS. */
export class TlsHandshakeError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_TLS_HANDSHAKE', message, options);
  }
}

/** An established connection failed: reset by the peer, broken pipe, ... */
export class ConnectionError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_CONNECTION', message, options);
  }
}

/** The server closed before echoing every byte that was sent. */
export class ShortEchoError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_SHORT_ECHO', message, options);
  }
}

/**
 * A byte of the echo differs from the byte sent at that offset, or the server sent a byte that was
 * never sent. `offset` counts from the start of the connection's byte stream.
 */
export class EchoMismatchError extends TcpechoError {
  readonly offset: number;
  /** The byte sent at `offset`; undefined when nothing was sent there. */
  readonly expected: number | undefined;
  /** The byte the server sent at `offset`. */
  readonly actual: number;

  constructor(offset: number, expected: number | undefined, actual: number, options?: ErrorOptions) {
    const message = expected === undefined
      ? `The echo has more bytes than were sent: byte ${offset} (got ${hexByte(actual)}) was never sent`
      : `The echo differs from what was sent at byte ${offset} (sent ${hexByte(expected)}, got ${hexByte(actual)})`;
    super('TCPECHO_ERR_ECHO_MISMATCH', message, options);
    this.offset = offset;
    this.expected = expected;
    this.actual = actual;
  }
}

/** More came back than `collectEcho`'s `maxBytes`: not an echo of what was sent, and unbounded. */
export class EchoTooLongError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_ECHO_TOO_LONG', message, options);
  }
}

/** The echo did not complete within the deadline. */
export class EchoTimeoutError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_ECHO_TIMEOUT', message, options);
  }
}

/**
 * The operation was given up through its `AbortSignal`. Named `AbortError` like the DOM's, so
 * `err.name === 'AbortError'` checks work; `cause` is the signal's reason.
 */
export class AbortError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_ABORTED', message, options);
  }
}

/**
 * Bench results that cannot be merged (`mergeBenchResults`, `tcpecho bench merge`): not a bench
 * result, of different runs (mode, size, transport, ...), or a file that cannot be read: exit code
 * 2 on the CLI.
 */
export class MergeError extends TcpechoError {
  constructor(message: string, options?: ErrorOptions) {
    super('TCPECHO_ERR_MERGE', message, options);
  }
}

/** UDP pipe mode: datagrams with no echo after every retry; the output stops before the first of them. */
export class DatagramsLostError extends TcpechoError {
  /** Datagrams lost. */
  readonly lost: number;

  constructor(lost: number, datagrams: number, written: number, retries: number) {
    super(
      'TCPECHO_ERR_DATAGRAMS_LOST',
      `${lost} of ${datagrams} datagram(s) lost (no echo after ${retries} retries); the output holds the ${written} bytes before the first lost one`,
    );
    this.lost = lost;
  }
}

function hexByte(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/** A system error's `code` (`ECONNRESET`, ...) when there is one. */
export function systemCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}
