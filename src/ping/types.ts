// The public types of `ping`: its options, one probe's result, the summary.
import type { TlsClientOptions } from '../client/tls.js';

/** Why a probe got no correct echo. */
export type ProbeFailure = 'timeout' | 'refused' | 'reset' | 'closed' | 'mismatch' | 'tls-error' | 'error';

/** Every failure kind, in the order the summary lists them. */
export const PROBE_FAILURES: readonly ProbeFailure[] = ['timeout', 'refused', 'reset', 'closed', 'mismatch', 'tls-error', 'error'];

/** What the probes travel over: a TCP connection, a Unix socket connection, TLS on either, or a UDP datagram. */
export type ProbeTransport = 'tcp' | 'tls' | 'udp' | 'unix';

/** A probe whose every byte came back as sent. */
export interface ProbeEchoed {
  /** The probe's number, from 1. */
  seq: number;
  outcome: 'echoed';
  /** Bytes sent and echoed. */
  bytes: number;
  /**
   * From the connect call to the connection being established, in milliseconds; absent when the
   * probe reused the connection of an earlier one (`keep`), and over UDP (no connection).
   */
  connectMs?: number;
  /** TLS: from the connection being established to the handshake's end (certificate checked), in milliseconds; absent when reused. */
  handshakeMs?: number;
  /** TLS: the version negotiated (`TLSv1.3`). */
  tlsProtocol?: string;
  /** From writing the first byte to receiving the last byte of its echo, in milliseconds. */
  echoMs: number;
}

/** A probe that got no correct echo. */
export interface ProbeFailed {
  seq: number;
  /**
   * `timeout`: no complete echo within `probeTimeoutMs` (connect included); `refused`: the
   * connection was refused; `reset`: reset by the peer (while connecting or after); `closed`: the
   * server closed before echoing every byte; `mismatch`: a byte differs from the one sent, or more
   * came back than was sent; `tls-error`: the TLS handshake failed or the server's certificate was
   * refused (`reason` says why, `errorCode` is OpenSSL's or Node's code); `error`: any other socket
   * error (`errorCode` says which).
   */
  outcome: ProbeFailure;
  /** Set when the probe opened a connection that was established before it failed. */
  connectMs?: number;
  /** `tls-error`: why, in one line (`certificate signed by an unknown authority`). */
  reason?: string;
  /** `mismatch`: the first byte of the echo that differs from what was sent (0-based). */
  offset?: number;
  /** `closed`, `timeout` and `reset`: bytes of the echo received before it failed. */
  received?: number;
  /** `error`: the system error's code (`EHOSTUNREACH`, ...). */
  errorCode?: string;
}

export type ProbeResult = ProbeEchoed | ProbeFailed;

/** Minimum, mean, maximum and mean deviation of a set of times, in milliseconds, as ping reports them. */
export interface TimeStats {
  count: number;
  min: number;
  avg: number;
  max: number;
  /** The population standard deviation, as ping's `mdev`: sqrt(mean(x²) − mean(x)²). */
  mdev: number;
}

export interface PingOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 7007 */
  port?: number;
  /** Only addresses of this IP version. @default both */
  family?: 4 | 6;
  /**
   * Probe a server on this Unix domain socket instead (a path, or `@NAME` for a Linux abstract
   * name); `host`, `port` and `family` are then not used. Works with `tls`, not with `udp`.
   */
  unix?: string;
  /** From the start of one probe to the start of the next; probes never overlap. @default 1000 */
  intervalMs?: number;
  /** Bytes per probe. @default 64 */
  size?: number;
  /** Probes to send; without it, `ping` runs until `signal` aborts. */
  count?: number;
  /** A probe not echoed within this long, connect included, is a `timeout`. @default 2000 */
  probeTimeoutMs?: number;
  /**
   * Probe over one connection, opened by the first probe, instead of a new connection per probe
   * (UDP: one socket, instead of a new source port per probe). A failed probe closes it (its
   * state is unknown) and the next probe opens another.
   * @default false
   */
  keep?: boolean;
  /**
   * Probe over TLS, verified as `connectEcho`'s `tls` is (`true`: against the system's CAs; `ca`,
   * `fingerprint`, `insecure`, `servername`, `cert` and `key` as there). Each probe's line then
   * has the TLS version and the handshake time.
   */
  tls?: boolean | TlsClientOptions;
  /**
   * Probe with one UDP datagram each (RFC 862's UDP service) instead of a TCP connection: `size`
   * at most 65,507 (IPv4) or 65,527 (IPv6). A datagram lost either way is a `timeout`; an ICMP
   * port unreachable is `refused`. Not with `tls`.
   * @default false
   */
  udp?: boolean;
  /** Stops `ping`: the probe in flight is dropped, and the result has `interrupted: true`. */
  signal?: AbortSignal;
  /** Called once the host is resolved, before the first probe, with the address probed (`ADDRESS:PORT`, or `unix:PATH`). */
  onStart?: (address: string) => void;
  /** Called with each probe's result as soon as it is known. */
  onProbe?: (probe: ProbeResult) => void;
}

export interface PingResult {
  /** `HOST:PORT` as given (`unix:PATH` with `unix`). */
  target: string;
  /** The address probed (`host` resolved once, before the first probe), as `ADDRESS:PORT` (`unix:PATH` with `unix`). */
  address: string;
  size: number;
  keep: boolean;
  transport: ProbeTransport;
  sent: number;
  echoed: number;
  /** (sent − echoed) / sent × 100; 0 when nothing was sent. */
  lossPercent: number;
  /** How many probes failed, by kind. */
  failures: Record<ProbeFailure, number>;
  /** Over every connection a probe established; absent when none was. */
  connect?: TimeStats;
  /** TLS: over the handshakes of the echoed probes that made one; absent when none did. */
  handshake?: TimeStats;
  /** Over every echoed probe; absent when none was. */
  echo?: TimeStats;
  /** From the first probe's start to the end of the last one. */
  durationMs: number;
  /** True when `signal` stopped the run. */
  interrupted: boolean;
  /** Every probe, in order (at most the first 100,000; `probesOmitted` counts the rest). */
  probes: ProbeResult[];
  probesOmitted: number;
}
