// The public types of the server side, in a module of their own: every mode implements them, and
// none of the modes needs startEchoServer's module for them.
import type { EventEmitter } from 'node:events';
import type { ConnectionClose, ConnectionOpen } from './connection-events.js';
import type { Faults } from './faults/faults.js';
import type { EchoServerMetrics } from './server-counters.js';

import { BALANCES, SERVER_MODES } from '../options/table.js';

// Declared in the option table with every other option's values.
export { BALANCES, SERVER_MODES };

/** How connections are served. */
export type ServerMode = (typeof SERVER_MODES)[number];

/** Cluster mode: how connections reach workers. */
export type Balance = (typeof BALANCES)[number];

export interface EchoServerOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /**
   * Address to listen on; `'*'` means every interface, IPv4 and IPv6 (what Node does when
   * `listen()` gets no host). @default '127.0.0.1'
   */
  host?: string;
  /**
   * `event`: one event loop serves every client; `fork`: a new process per client; `cluster`: a
   * primary and `workers` processes each serving clients in an event loop. @default 'event'
   */
  mode?: ServerMode;
  /** Cluster mode: worker processes. @default the number of CPUs */
  workers?: number;
  /** Cluster mode: `rr`, the primary hands each connection to the next worker; `shared`, workers accept themselves. @default 'rr' */
  balance?: Balance;
  /** Fork mode: most child processes at once, spares included; later clients wait, unread. @default 64 */
  maxChildren?: number;
  /** Fork mode: child processes kept started and ready for the next clients; 0 turns it off. @default 2 */
  spare?: number;
  /** Close a connection with no traffic either way for this long; 0 turns it off. @default 0 */
  idleTimeoutMs?: number;
  /**
   * Most connections at once, every mode. In fork mode and in the cluster primary, clients waiting
   * for a process count too. One past it is closed at once and reported as a `reject` event; a
   * slot frees when a connection closes. @default 10000
   */
  maxConnections?: number;
  /** How long `close()` lets open connections finish before closing them. @default 5000 */
  drainTimeoutMs?: number;
  /** Length of the kernel's accept queue (capped by net.core.somaxconn). @default 4096 */
  backlog?: number;
  /** With `host: '::'` (or `'*'`), IPv6 clients only: no IPv4 on the same socket. @default false */
  ipv6Only?: boolean;
  /**
   * TLS on every connection: `true` for a temporary self-signed certificate (its fingerprint is
   * the server's `tlsFingerprint`), or the certificate and settings. @default off (plain TCP)
   */
  tls?: true | EchoServerTlsOptions;
  /** Close a connection whose TLS handshake has not completed within this long. @default 10000 */
  handshakeTimeoutMs?: number;
  /**
   * A Unix domain socket path to listen on instead of TCP (`port` and `host` are then ignored);
   * `@NAME` is a Linux abstract name. A stale socket file is replaced. @default none (TCP)
   */
  unix?: string;
  /** Permissions of the Unix socket file (`0o660`). @default as the umask leaves them */
  unixMode?: number;
  /**
   * An inherited descriptor (3 or above) of a listening TCP or Unix stream socket to serve on
   * instead of binding (`port`, `host` and `unix` are then ignored); what socket activation
   * passes. Anything else rejects with `InheritedSocketError`. @default none (bind)
   */
  listenFd?: number;
  /**
   * Serve only clients whose address is in one of these (`'127.0.0.0/8'`, `'::1'`); others are
   * closed unread and reported as `reject` with reason `denied`. @default [] (everyone)
   */
  allow?: string[];
  /** Refuse clients whose address is in one of these; wins over `allow`. @default [] */
  deny?: string[];
  /** Every chunk received and sent, in `hexdump -C` layout, on the echoing process's stderr. @default false */
  hexdump?: boolean;
  /** Faults on the echo from the start (see `setFaults`). @default none */
  faults?: Faults;
  /**
   * Every connection starts with a PROXY protocol header (v1 or v2); `allow`/`deny` and the close
   * event's `remoteAddress` are then the client's it carries, `proxyAddress` the balancer's. A
   * missing or bad header closes the connection (reason `proxy-error`). @default false
   */
  proxyProtocol?: boolean;
  /** With `proxyProtocol`: only these balancers may connect; others are rejected with reason `proxy-untrusted`. @default [] (any) */
  proxyFrom?: string[];
  /**
   * Serve `GET /metrics` (Prometheus), `/healthz` and `/readyz` over HTTP on this port (0: a free
   * one) and host, started with the server and closed once it has closed; its address is the
   * server's `metricsUrl`. A port in use rejects with `TCPECHO_ERR_ADDRESS_IN_USE` and leaves
   * nothing running. `server.metrics()` works without it. @default off (host `'127.0.0.1'`)
   */
  metrics?: { port: number; host?: string };
}

/** The certificate and settings of a TLS server. */
export interface EchoServerTlsOptions {
  /** PEM certificate, a chain served whole. Without `cert` and `key`, a temporary self-signed one. */
  cert?: string | Buffer;
  /** PEM private key of `cert`. */
  key?: string | Buffer;
  /** PEM CA certificates that clients' certificates must be signed by (with `clientCert`). */
  ca?: string | Buffer;
  /** `require`: refuse a client without a certificate signed by `ca`; `request`: ask for one. @default none */
  clientCert?: 'require' | 'request';
  /** Oldest version accepted. @default 'TLSv1.2' */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** ALPN protocols offered, in order of preference. @default none */
  alpn?: string[];
}

/** Where a server listens. On a Unix socket: `host` is the path (or `@name`), `port` 0, `family` `'unix'`. */
export interface EchoServerAddress {
  host: string;
  port: number;
  /** `'IPv4'`, `'IPv6'` or `'unix'`. */
  family: string;
}

export interface EchoServerEvents {
  /**
   * A connection was accepted and handed to what will echo it. With `proxyProtocol`, once its
   * header has been read: `remoteAddress` is then the client's it carries and `proxyAddress` the
   * balancer's; a connection whose header is bad, missing or late gets it just before its
   * `disconnect`, with the balancer's address. Every `disconnect` but `gone` follows one.
   */
  connection: [info: ConnectionOpen];
  /**
   * A connection has closed. Fork mode and the cluster primary: a client that left while it
   * waited for a process gets one with reason `gone`, and had no `connection` event.
   */
  disconnect: [info: ConnectionClose];
  /** A connection closed at once, unread: past `maxConnections`, refused by `allow`/`deny` (or `proxyFrom`), or by `refuseRate`. */
  reject: [info: ConnectionReject];
  /** A failure that did not stop the server, such as `accept` hitting EMFILE. */
  warning: [error: Error];
  /** Emitted once, when the server has fully closed: listener closed, every child and worker exited. */
  close: [];
}

export interface ConnectionReject {
  remoteAddress: string;
  remotePort: number;
  /**
   * `max-connections`: the limit was reached; `denied`: `allow`/`deny` refused the address;
   * `refused`: the `refuseRate` fault reset it; `proxy-untrusted`: with `proxyProtocol`, the peer
   * is not in `proxyFrom`.
   */
  reason: 'max-connections' | 'denied' | 'refused' | 'proxy-untrusted';
  /** Connections rejected so far by this server. */
  rejected: number;
}

export interface CloseOptions {
  /** Close every connection now instead of draining: the same as `destroy()`. @default false */
  force?: boolean;
}

/**
 * A listening echo server, in any mode. Get one from {@link startEchoServer}.
 *
 * `close()` stops accepting and lets open connections finish up to `drainTimeoutMs`, then closes
 * the rest; `destroy()` (and `close({ force: true })`) closes everything now. Each resolves once
 * the listener is closed and every child or worker has exited, and each is safe to call more than
 * once; `destroy()` during a `close()` cuts its drain short. `[Symbol.asyncDispose]` destroys.
 */
export interface EchoServer extends EventEmitter<EchoServerEvents> {
  readonly mode: ServerMode;
  /** Where the server listens, with the real port when 0 was asked. */
  readonly address: EchoServerAddress;
  /** `HOST:PORT`, IPv6 hosts in brackets; `unix:PATH` on a Unix socket. */
  readonly url: string;
  /** Connections accepted and not yet closed (fork mode and cluster: including those waiting for a process). */
  readonly connections: number;
  /** Connections closed at once: `maxConnections` were open, or `allow`/`deny` refused the address. */
  readonly rejectedConnections: number;
  /** Fork mode: the children alive now, spares included; cluster mode: the workers. */
  readonly childPids: number[];
  /** Fork mode: the spare children, started and waiting for a client. */
  readonly sparePids: number[];
  /**
   * With TLS, the SHA-256 fingerprint of the certificate served (`AB:CD:...`, as `openssl x509
   * -fingerprint -sha256` prints it): what a client pins a temporary certificate by.
   */
  readonly tlsFingerprint: string | undefined;
  /** True from the moment `close()` or `destroy()` is called: the server no longer accepts. */
  readonly closing: boolean;
  /**
   * The figures that `/metrics` serves, as a plain object, counted from the server's start over
   * the whole process tree (fork children and cluster workers report to this process); works
   * with or without the `metrics` option. See {@link EchoServerMetrics}.
   */
  metrics(): EchoServerMetrics;
  /** With the `metrics` option: the endpoint's `http://HOST:PORT` (add `/metrics`, `/healthz`, `/readyz`); else undefined. */
  readonly metricsUrl: string | undefined;
  /**
   * Changes the faults in force: new connections get them at once, open ones from their next read
   * (a delay) or write (pacing, pieces, close/reset/stall counts). In fork and cluster modes every
   * child and worker, spares included, has them before this resolves. `{}` clears them. Rejects
   * with `TCPECHO_ERR_USAGE` for an unknown field or a bad value, and changes nothing then.
   */
  setFaults(faults: Faults): Promise<void>;
  /** The same as `setFaults({})`. */
  clearFaults(): Promise<void>;
  /** The faults in force (`{}` for none). */
  getFaults(): Faults;
  close(options?: CloseOptions): Promise<void>;
  destroy(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
