import type { EchoServer } from '../server/echo-server.js';
import type { ConnectionClose, ConnectionOpen } from '../server/connection-events.js';
import { formatAddress } from '../options/values.js';
import { UNIX_PEER_ADDRESS } from '../unix-path.js';

/** `--log-format`: the text lines, or one JSON object per line. */
export type LogFormat = 'text' | 'json';

/**
 * One JSON log line: `time` and `event` first, then `fields` with the undefined ones left out
 * (JSON.stringify drops them).
 */
export function jsonLine(event: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ time: stamp(), event, ...fields });
}

/** Writes one line per connection event to `write` (stderr on the CLI). */
export function logConnections(server: EchoServer, write: (line: string) => void, format: LogFormat = 'text'): void {
  if (format === 'json') return logConnectionsJson(server, write);
  server.on('connection', (info: ConnectionOpen) => {
    const pid = info.pid === undefined ? '' : ` pid=${info.pid}`;
    write(`${stamp()} open #${info.id} ${peer(info.remoteAddress, info.remotePort)}${pid}${proxyText(info)}`);
  });
  server.on('disconnect', (info: ConnectionClose) => {
    const pid = info.pid === undefined ? '' : ` pid=${info.pid}`;
    const detail = info.errorCode ?? info.childExit;
    const reason = detail === undefined ? info.reason : `${info.reason} (${detail})`;
    write(
      `${stamp()} close #${info.id} ${peer(info.remoteAddress, info.remotePort)}${pid}` +
        `${proxyText(info)} bytes=${info.bytesWritten} duration=${info.durationMs.toFixed(1)}ms${tlsText(info)}${info.faults === undefined ? '' : ` faults=${info.faults.join(',')}`} reason=${reason}`,
    );
  });
}

/** ` proxy=BALANCER:PORT` (and the header's ALPN and authority) with the PROXY protocol, or nothing. */
function proxyText(info: ConnectionOpen & Partial<ConnectionClose>): string {
  if (info.proxyAddress === undefined) return '';
  const alpn = info.proxyAlpn === undefined ? '' : ` proxy-alpn=${info.proxyAlpn}`;
  const authority = info.proxyAuthority === undefined ? '' : ` proxy-authority=${info.proxyAuthority}`;
  return ` proxy=${peer(info.proxyAddress, info.proxyPort ?? 0)}${alpn}${authority}`;
}

/** The same events as objects: the fields of the text line, under their library names. */
function logConnectionsJson(server: EchoServer, write: (line: string) => void): void {
  server.on('connection', (info: ConnectionOpen) => {
    write(jsonLine('open', {
      id: info.id,
      remoteAddress: plainAddress(info.remoteAddress),
      remotePort: info.remotePort,
      pid: info.pid,
      proxyAddress: info.proxyAddress === undefined ? undefined : plainAddress(info.proxyAddress),
      proxyPort: info.proxyPort,
    }));
  });
  server.on('disconnect', (info: ConnectionClose) => {
    write(jsonLine('close', {
      id: info.id,
      remoteAddress: plainAddress(info.remoteAddress),
      remotePort: info.remotePort,
      pid: info.pid,
      bytesRead: info.bytesRead,
      bytesWritten: info.bytesWritten,
      durationMs: Math.round(info.durationMs * 10) / 10,
      reason: info.reason,
      errorCode: info.errorCode,
      childExit: info.childExit,
      tls: info.tls,
      faults: info.faults,
      proxyAddress: info.proxyAddress === undefined ? undefined : plainAddress(info.proxyAddress),
      proxyPort: info.proxyPort,
      proxyAlpn: info.proxyAlpn,
      proxyAuthority: info.proxyAuthority,
    }));
  });
}

/** ` tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 alpn=h2 client="CN=alice"`, or nothing for plain TCP. */
function tlsText(info: ConnectionClose): string {
  const { tls } = info;
  if (tls === undefined) return '';
  const alpn = tls.alpn === undefined ? '' : ` alpn=${tls.alpn}`;
  const client = tls.clientSubject === undefined ? '' : ` client=${JSON.stringify(tls.clientSubject)}`;
  return ` tls=${tls.protocol} cipher=${tls.cipher}${alpn}${client}`;
}

/** Warnings and rejections are logged even with `--quiet`: they are not routine chatter. */
export function logWarnings(server: EchoServer, write: (line: string) => void, format: LogFormat = 'text'): void {
  if (format === 'json') {
    server.on('warning', (err: Error) => write(jsonLine('warning', { message: err.message })));
    server.on('reject', (info) => {
      write(jsonLine('reject', { remoteAddress: plainAddress(info.remoteAddress), remotePort: info.remotePort, reason: info.reason, rejected: info.rejected }));
    });
    return;
  }
  server.on('warning', (err: Error) => write(`${stamp()} warning ${err.message}`));
  server.on('reject', (info) => {
    write(`${stamp()} reject ${peer(info.remoteAddress, info.remotePort)} reason=${info.reason} rejected=${info.rejected}`);
  });
}

/**
 * `HOST:PORT` of a client. A dual-stack listener sees IPv4 clients as `::ffff:127.0.0.1`; the
 * log says `127.0.0.1`, the address the client used. A client on a Unix socket, which has no
 * address, is `unix`.
 */
export function peer(address: string, port: number): string {
  if (address === UNIX_PEER_ADDRESS && port === 0) return address;
  return formatAddress(plainAddress(address), port);
}

/** `::ffff:127.0.0.1` (an IPv4 client of a dual-stack listener) as the client wrote it: `127.0.0.1`. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

let stampMs = -1;
let stampText = '';
let secondMs = -1;
let secondText = '';

/**
 * The ISO time of `now` (whole milliseconds, as Date.now() gives), `2026-12-01T17:06:05.684Z`:
 * formatted once per millisecond however many lines share it, and the part up to the second
 * once per second, since a Date's toISOString for every log line is a cost paid per connection.
 */
export function stamp(now = Date.now()): string {
  if (now === stampMs) return stampText;
  stampMs = now;
  const ms = now % 1000;
  const second = now - ms;
  if (second !== secondMs) {
    secondMs = second;
    // `2026-12-01T17:06:05.`
    secondText = new Date(second).toISOString().slice(0, 20);
  }
  stampText = `${secondText}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  return stampText;
}
