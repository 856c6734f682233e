import os from 'node:os';

/**
 * Every option of every subcommand, declared once. The command-line parser, `--help`, the
 * library's validation and the README's flag tables are all made from this list: a default or a
 * range is written here and nowhere else.
 */

/** `bench-merge` is `tcpecho bench merge`. */
export const COMMANDS = ['server', 'client', 'bench', 'ping', 'bench-merge'] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * How a value is written and checked:
 * - `port`: 0-65535 in plain decimal;
 * - `integer`: a whole number from `min` to `max`;
 * - `seconds`: seconds on the command line (fractions allowed), milliseconds in the library;
 * - `size`: bytes, with binary units on the command line (`64`, `1k`, `64KiB`, `1MiB`);
 * - `choice`: one of `choices`;
 * - `text`: any non-empty string;
 * - `flag`: present or not (library: a boolean);
 * - `cidr`: an address or a network, IPv4 or IPv6 (`127.0.0.0/8`, `::1`); always `repeatable`;
 * - `octal`: file permissions in octal (`0660`); the library takes the number (`0o660`);
 * - `fraction`: a share from 0 to 1 (`0.25`).
 */
export type ValueKind = 'port' | 'integer' | 'seconds' | 'size' | 'choice' | 'text' | 'flag' | 'cidr' | 'octal' | 'fraction';

export type OptionValue = number | string | boolean | string[];

export interface OptionSpec {
  /** The long flag, without its dashes: `max-connections`. */
  readonly flag: string;
  /**
   * The one-letter flag; it means the same in every subcommand that has it, with one exception
   * kept on purpose: `-c` is bench's `--connections` (as in wrk and autocannon) and ping's
   * `--count` (as in ping).
   */
  readonly short?: string;
  /**
   * The library's name for it (`maxConnections`, with the unit: `idleTimeoutMs`). Options that
   * only the command line has (`--quiet`, `--json`) have one too, for the parsed values, and
   * `cliOnly` set.
   */
  readonly key: string;
  readonly kind: ValueKind;
  /** The value's placeholder in help: `N`, `SECS`, `HOST`. */
  readonly arg?: string;
  /** Bounds in the library's unit (milliseconds for `seconds`, bytes for `size`). */
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** The library's default, in its unit; a function when it depends on the machine. */
  readonly default?: OptionValue | (() => OptionValue);
  /** The command line's default when it differs from the library's (the CLI serves 7007). */
  readonly cliDefault?: OptionValue;
  /** How the default reads in help when the value alone does not say it. */
  readonly defaultText?: string;
  /** The subcommands that take it. */
  readonly commands: readonly Command[];
  /** Only with these values of that command's `mode` option; anything else is a usage error. */
  readonly modes?: readonly string[];
  /** Not a library option: only the command line has it. */
  readonly cliOnly?: boolean;
  /**
   * How the README names the library's counterpart of a command-line-only option whose library
   * form differs (`--tls-cert FILE` is `tls.cert`, the PEM text).
   */
  readonly libraryText?: string;
  /** May be given more than once; the library takes an array. */
  readonly repeatable?: boolean;
  /** Applies with `--udp` only (see UDP_OPTIONS for what applies with it). */
  readonly udpOnly?: boolean;
  /** One sentence or two for `--help` and the README. */
  readonly help: string;
  /** The README's tables show the options of one group in a single row (`--help` lists each). */
  readonly group?: 'faults' | 'tls-client';
}

export const SERVER_MODES = ['event', 'fork', 'cluster'] as const;
export const BALANCES = ['rr', 'shared'] as const;
export const BENCH_MODES = ['pingpong', 'stream', 'connect'] as const;
export const TLS_CLIENT_CERTS = ['require', 'request'] as const;
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

const DAY_MS = 86_400_000;

/** The port a server listens on and a client connects to when none is given on the command line. */
export const DEFAULT_PORT = 7007;
/** The host `client` and `bench` connect to when none is given (`::1` with `-6`). */
export const DEFAULT_HOST = '127.0.0.1';

const common: OptionSpec[] = [
  { flag: 'help', short: 'h', key: 'help', kind: 'flag', cliOnly: true, commands: ['server', 'client', 'bench', 'ping', 'bench-merge'], help: 'show this help' },
  { flag: 'version', short: 'V', key: 'version', kind: 'flag', cliOnly: true, commands: ['server', 'client', 'bench', 'ping', 'bench-merge'], help: 'show the version' },
];

const server: OptionSpec[] = [
  {
    flag: 'port', short: 'p', key: 'port', kind: 'port', arg: 'PORT', default: 0, cliDefault: DEFAULT_PORT, commands: ['server'],
    help: 'port to listen on; 0 picks a free one. A lone number or HOST:PORT as the argument says the same',
  },
  {
    flag: 'host', short: 'H', key: 'host', kind: 'text', arg: 'HOST', default: '127.0.0.1', cliDefault: '*', commands: ['server'],
    help: 'address to listen on; `*` is every interface, IPv4 and IPv6',
  },
  {
    flag: 'mode', short: 'm', key: 'mode', kind: 'choice', arg: 'MODE', choices: SERVER_MODES, default: 'event', commands: ['server'],
    help: 'event: one event loop serves every client; fork: a new child process for every client; cluster: a primary and --workers processes sharing the clients',
  },
  {
    flag: 'workers', key: 'workers', kind: 'integer', arg: 'N', min: 1, max: 1024, default: () => os.availableParallelism(), defaultText: 'number of CPUs',
    commands: ['server'], modes: ['cluster'], help: 'worker processes',
  },
  {
    flag: 'balance', key: 'balance', kind: 'choice', arg: 'HOW', choices: BALANCES, default: 'rr', commands: ['server'], modes: ['cluster'],
    help: 'rr: the primary hands each connection to the next worker; shared: the workers accept on the shared socket',
  },
  {
    flag: 'max-children', key: 'maxChildren', kind: 'integer', arg: 'N', min: 1, max: 100_000, default: 64, commands: ['server'], modes: ['fork'],
    help: 'most children at once, spares included; more clients wait, unread, up to --max-connections',
  },
  {
    flag: 'spare', key: 'spare', kind: 'integer', arg: 'N', min: 0, max: 100_000, default: 2, commands: ['server'], modes: ['fork'],
    help: 'children kept started and ready for the next clients (at most --max-children; 0 for none)',
  },
  {
    flag: 'max-connections', key: 'maxConnections', kind: 'integer', arg: 'N', min: 1, max: 10_000_000, default: 10_000, commands: ['server'],
    help: 'most connections at once (fork: served and waiting; cluster: each worker its share); one more is closed at once and logged as `reject`',
  },
  {
    flag: 'idle-timeout', key: 'idleTimeoutMs', kind: 'seconds', arg: 'SECS', min: 0, max: DAY_MS, default: 0, defaultText: 'off', commands: ['server'],
    help: 'close a connection with no traffic either way for this long',
  },
  {
    flag: 'drain-timeout', key: 'drainTimeoutMs', kind: 'seconds', arg: 'SECS', min: 0, max: DAY_MS, default: 5000, commands: ['server'],
    help: 'on SIGINT/SIGTERM (library: close()), how long open connections may finish before they are closed',
  },
  {
    flag: 'backlog', key: 'backlog', kind: 'integer', arg: 'N', min: 1, max: 1_000_000, default: 4096, commands: ['server'],
    help: "length of the kernel's accept queue (capped by net.core.somaxconn)",
  },
  {
    flag: 'ipv6-only', key: 'ipv6Only', kind: 'flag', default: false, commands: ['server'],
    help: 'with host `::` or `*`, IPv6 clients only (`-6` sets it)',
  },
  {
    flag: 'unix', key: 'unix', kind: 'text', arg: 'PATH', commands: ['server', 'client', 'bench', 'ping'],
    help: 'a Unix domain socket instead of TCP (`@NAME`: a Linux abstract name); server: a stale socket file is replaced, any other file left alone',
  },
  {
    flag: 'unix-mode', key: 'unixMode', kind: 'octal', arg: 'MODE', min: 0, max: 0o7777, commands: ['server'],
    help: "permissions of the server's socket file, in octal (`0660`); default: as the umask leaves them",
  },
  {
    flag: 'listen-fd', key: 'listenFd', kind: 'integer', arg: 'FD', min: 3, max: 65535, commands: ['server'],
    help: 'serve on this inherited listening TCP or Unix socket (with --udp: a bound UDP socket) instead of binding; set from LISTEN_FDS under socket activation (systemd)',
  },
  {
    flag: 'tls', key: 'tls', kind: 'flag', cliOnly: true, libraryText: '`tls: true`', commands: ['server', 'client', 'bench', 'ping'],
    help: 'TLS over the connection; server: with no --tls-cert, a temporary self-signed certificate whose SHA-256 fingerprint is printed',
  },
  { flag: 'tls-cert', key: 'tlsCert', kind: 'text', arg: 'FILE', cliOnly: true, libraryText: '`tls.cert` (PEM)', commands: ['server'], help: 'PEM certificate (a chain is served whole); implies --tls' },
  { flag: 'tls-key', key: 'tlsKey', kind: 'text', arg: 'FILE', cliOnly: true, libraryText: '`tls.key` (PEM)', commands: ['server'], help: 'PEM private key of --tls-cert' },
  { flag: 'tls-ca', key: 'tlsCa', kind: 'text', arg: 'FILE', cliOnly: true, libraryText: '`tls.ca` (PEM)', commands: ['server'], help: "PEM CA certificates that clients' certificates must be signed by (with --tls-client-cert)" },
  {
    flag: 'tls-client-cert', key: 'tlsClientCert', kind: 'choice', arg: 'HOW', choices: TLS_CLIENT_CERTS, cliOnly: true, libraryText: '`tls.clientCert`', commands: ['server'],
    help: 'mutual TLS: require refuses a client without a certificate signed by --tls-ca; request asks for one and logs its subject',
  },
  {
    flag: 'tls-min-version', key: 'tlsMinVersion', kind: 'choice', arg: 'VERSION', choices: TLS_VERSIONS, cliOnly: true, libraryText: '`tls.minVersion`', defaultText: 'TLSv1.2',
    commands: ['server'], help: 'oldest TLS version accepted',
  },
  { flag: 'alpn', key: 'alpn', kind: 'text', arg: 'LIST', cliOnly: true, libraryText: '`tls.alpn` (array)', commands: ['server'], help: 'comma-separated ALPN protocols offered (`h2,http/1.1`); the one negotiated is logged' },
  {
    flag: 'handshake-timeout', key: 'handshakeTimeoutMs', kind: 'seconds', arg: 'SECS', min: 1, max: DAY_MS, default: 10_000, commands: ['server'],
    help: 'close a connection whose TLS handshake (or, with --proxy-protocol, PROXY header) has not completed within this long',
  },
  {
    flag: 'proxy-protocol', key: 'proxyProtocol', kind: 'flag', default: false, commands: ['server'],
    help: 'every connection starts with a PROXY protocol header (v1 or v2, from a balancer): its client address is the one logged and matched by --allow/--deny; the header is not echoed',
  },
  {
    flag: 'proxy-from', key: 'proxyFrom', kind: 'cidr', arg: 'CIDR', repeatable: true, commands: ['server'],
    help: 'with --proxy-protocol, accept connections only from these balancers (repeatable); others are refused unread (`reason=proxy-untrusted`)',
  },
  {
    flag: 'allow', key: 'allow', kind: 'cidr', arg: 'CIDR', repeatable: true, commands: ['server'],
    help: 'serve only clients from this address or network (repeatable; `127.0.0.0/8`, `::1`); others are closed unread and logged as `reject`',
  },
  { flag: 'deny', key: 'deny', kind: 'cidr', arg: 'CIDR', repeatable: true, commands: ['server'], help: 'refuse clients from this address or network (repeatable); wins over --allow' },
  {
    flag: 'hexdump', key: 'hexdump', kind: 'flag', default: false, commands: ['server', 'client'],
    help: 'every chunk received and sent, in `hexdump -C` layout, on stderr (paced by stderr: a slow terminal slows the echo)',
  },
  ...faultOptions(),
  {
    flag: 'control-port', key: 'controlPort', kind: 'port', arg: 'PORT', cliOnly: true, libraryText: '`setFaults()`', commands: ['server'],
    help: 'serve the fault control API (GET/PUT/DELETE /faults) over HTTP on this port (0: a free one); off by default',
  },
  { flag: 'control-host', key: 'controlHost', kind: 'text', arg: 'HOST', cliOnly: true, defaultText: '127.0.0.1', commands: ['server'], help: 'address of the control API' },
  {
    flag: 'metrics-port', key: 'metricsPort', kind: 'port', arg: 'PORT', cliOnly: true, libraryText: '`metrics.port`', commands: ['server'],
    help: 'serve GET /metrics (Prometheus), /healthz and /readyz over HTTP on this port (0: a free one); off by default',
  },
  { flag: 'metrics-host', key: 'metricsHost', kind: 'text', arg: 'HOST', cliOnly: true, libraryText: '`metrics.host`', defaultText: '127.0.0.1', commands: ['server'], help: 'address of the metrics endpoint' },
  {
    flag: 'log-format', key: 'logFormat', kind: 'choice', arg: 'FORMAT', choices: ['text', 'json'], default: 'text', cliOnly: true, commands: ['server'],
    help: '`text`, or `json`: one JSON object per line on stderr',
  },
  {
    flag: 'quiet', short: 'q', key: 'quiet', kind: 'flag', cliOnly: true, commands: ['server'],
    help: 'no per-connection log lines (the ready line, warnings and rejections stay)',
  },
];

/**
 * UDP echo (RFC 862), `--udp` on each subcommand. With it, only the options listed in
 * UDP_OPTIONS apply (the rest are TCP's: a usage error), and `modes` restrictions do not: the
 * datagram path has no fork, cluster, stream or connect. The options marked `udpOnly` apply with
 * `--udp` only.
 */
const udp: OptionSpec[] = [
  {
    flag: 'udp', short: 'u', key: 'udp', kind: 'flag', default: false, commands: ['server', 'client', 'bench', 'ping'],
    help: 'UDP datagrams instead of TCP (RFC 862): the server in event mode only, forgetting a source idle for 30 s (`--idle-timeout`); client and bench wait 1 s for an echo (`--timeout`); bench: ping-pong, `--rate` in datagrams a second; ping: one datagram a probe',
  },
  {
    flag: 'udp-allow-low-ports', key: 'udpAllowLowPorts', kind: 'flag', default: false, commands: ['server'], udpOnly: true,
    help: 'answer datagrams from source port 0 and from the ports of reflecting services (7, 13, 17, 19, 37, 53, ...) too: for a lab only',
  },
  {
    flag: 'udp-rate', key: 'udpRate', kind: 'integer', arg: 'N', min: 0, max: 100_000_000, default: 10_000, commands: ['server'], udpOnly: true,
    help: 'most datagrams a second answered per source address (a token bucket, 1 s of burst); the excess is dropped and counted; 0: no limit',
  },
  {
    flag: 'udp-max-sources', key: 'udpMaxSources', kind: 'integer', arg: 'N', min: 1, max: 10_000_000, default: 65_536, commands: ['server'], udpOnly: true,
    help: 'most source addresses tracked at once (rate and counters); past it the longest-known one is evicted',
  },
  {
    flag: 'datagram-size', key: 'datagramSize', kind: 'size', arg: 'SIZE', min: 1, max: 65_527, default: 1200, commands: ['client'], udpOnly: true,
    help: 'bytes of stdin per datagram in pipe mode (at most 65507 over IPv4, 65527 over IPv6)',
  },
  {
    flag: 'retries', key: 'retries', kind: 'integer', arg: 'N', min: 0, max: 100, default: 3, commands: ['client'], udpOnly: true,
    help: 'pipe mode: times a datagram not echoed within --timeout is sent again before it counts as lost',
  },
];

/** The options that apply with `--udp`, by subcommand (long flags). */
export const UDP_OPTIONS: Record<Command, readonly string[]> = {
  server: [
    'port', 'host', 'mode', 'idle-timeout', 'ipv6-only', 'listen-fd', 'allow', 'deny', 'hexdump', 'quiet', 'ipv4', 'ipv6', 'udp', 'udp-allow-low-ports', 'udp-rate', 'udp-max-sources',
    // A datagram's echo can be held (UDP_FAULT_FIELDS); the other faults act on connections.
    'delay', 'jitter', 'fault-rate', 'control-port', 'control-host', 'metrics-port', 'metrics-host', 'help', 'version',
  ],
  client: ['timeout', 'verbose', 'hexdump', 'ipv4', 'ipv6', 'udp', 'datagram-size', 'retries', 'help', 'version'],
  bench: ['mode', 'connections', 'size', 'duration', 'messages', 'warmup', 'rate', 'timeout', 'json', 'ipv4', 'ipv6', 'udp', 'help', 'version'],
  ping: ['interval', 'size', 'count', 'probe-timeout', 'keep', 'quiet', 'json', 'ipv4', 'ipv6', 'udp', 'help', 'version'],
  // bench merge reads results; it has no --udp (UDP results are merged as TCP ones are).
  'bench-merge': [],
};

/** The one mode each subcommand's `--udp` has. */
export const UDP_MODES: Partial<Record<Command, string>> = { server: 'event', bench: 'pingpong' };

/** Defaults that differ with `--udp`: a datagram's echo comes within a second or not at all. */
export const UDP_DEFAULTS: Partial<Record<Command, Record<string, OptionValue>>> = {
  // A source silent this long is forgotten (its counters and rate); TCP's default, 0, is off.
  server: { idleTimeoutMs: 30_000 },
  client: { timeoutMs: 1000 },
  bench: { timeoutMs: 1000 },
};

const families: OptionSpec[] = [
  {
    flag: 'ipv4', short: '4', key: 'ipv4', kind: 'flag', cliOnly: true, commands: ['server', 'client', 'bench', 'ping'],
    help: 'IPv4 only; the default host is 127.0.0.1 (server: 0.0.0.0)',
  },
  {
    flag: 'ipv6', short: '6', key: 'ipv6', kind: 'flag', cliOnly: true, commands: ['server', 'client', 'bench', 'ping'],
    help: 'IPv6 only; the default host is ::1 (server: `::`, refusing IPv4)',
  },
];

const client: OptionSpec[] = [
  {
    flag: 'timeout', short: 'w', key: 'timeoutMs', kind: 'seconds', arg: 'SECS', min: 1, max: DAY_MS, default: 10_000, commands: ['client'],
    help: 'give up when not connected within this long (name lookup included)',
  },
  { flag: 'verbose', short: 'v', key: 'verbose', kind: 'flag', cliOnly: true, commands: ['client'], help: "status lines on stderr: the address resolved, the connection (TLS: version, cipher, the server's certificate), bytes sent and received" },
];

/** The client side of TLS, for `client`, `bench` and `ping`. */
const tlsClient: OptionSpec[] = [
  { flag: 'ca', key: 'ca', kind: 'text', arg: 'FILE', cliOnly: true, libraryText: '`tls.ca` (PEM)', commands: ['client', 'bench', 'ping'], group: 'tls-client', help: "verify the server's certificate against these PEM CA certificates instead of the system's; implies --tls" },
  {
    flag: 'fingerprint', key: 'fingerprint', kind: 'text', arg: 'SHA256', cliOnly: true, libraryText: '`tls.fingerprint`', commands: ['client', 'ping'],
    group: 'tls-client', help: "accept the server's certificate only if its SHA-256 fingerprint is this (hex, colons optional), with no CA asked unless --ca; implies --tls",
  },
  { flag: 'insecure', key: 'insecure', kind: 'flag', cliOnly: true, libraryText: '`tls.insecure`', commands: ['client', 'bench', 'ping'], group: 'tls-client', help: "do not verify the server's certificate; implies --tls" },
  { flag: 'servername', key: 'servername', kind: 'text', arg: 'NAME', cliOnly: true, libraryText: '`tls.servername`', commands: ['client', 'ping'], group: 'tls-client', help: 'the name sent in SNI and checked against the certificate (default: the host); with --tls' },
  { flag: 'cert', key: 'cert', kind: 'text', arg: 'FILE', cliOnly: true, libraryText: '`tls.cert` (PEM)', commands: ['client', 'ping'], group: 'tls-client', help: 'PEM client certificate, for mutual TLS; with --tls and --key' },
  { flag: 'key', key: 'key', kind: 'text', arg: 'FILE', cliOnly: true, libraryText: '`tls.key` (PEM)', commands: ['client', 'ping'], group: 'tls-client', help: 'PEM private key of --cert' },
  {
    flag: 'tls-resume', key: 'tlsResume', kind: 'flag', default: false, commands: ['bench'], modes: ['connect'],
    help: 'resume TLS sessions: measures resumed handshakes instead of full ones; with --tls',
  },
];

const bench: OptionSpec[] = [
  {
    flag: 'mode', short: 'm', key: 'mode', kind: 'choice', arg: 'MODE', choices: BENCH_MODES, default: 'pingpong', commands: ['bench'],
    help: 'pingpong: send a message, wait for its whole echo, repeat; stream: write continuously and read back; connect: connect, send one message, check it, close, repeat',
  },
  {
    flag: 'connections', short: 'c', key: 'connections', kind: 'integer', arg: 'N', min: 1, max: 100_000, default: 50, commands: ['bench'],
    help: 'concurrent connections (connect mode: concurrent connect loops, or the most under way with --rate)',
  },
  { flag: 'size', short: 's', key: 'size', kind: 'size', arg: 'SIZE', min: 1, max: 64 * 2 ** 20, default: 1024, defaultText: '1KiB', commands: ['bench'], help: 'bytes per message: 64, 1k, 64KiB, 1MiB' },
  { flag: 'duration', short: 'd', key: 'durationMs', kind: 'seconds', arg: 'SECS', min: 1, max: DAY_MS, default: 10_000, commands: ['bench'], help: 'measured time' },
  { flag: 'messages', short: 'n', key: 'messages', kind: 'integer', arg: 'N', min: 1, max: Number.MAX_SAFE_INTEGER, commands: ['bench'], help: 'stop after N messages instead of after --duration (or once none has come for --timeout)' },
  { flag: 'warmup', key: 'warmupMs', kind: 'seconds', arg: 'SECS', min: 0, max: 3_600_000, default: 1000, commands: ['bench'], help: 'run this long before counting' },
  { flag: 'pipeline', key: 'pipeline', kind: 'integer', arg: 'N', min: 1, max: 10_000, default: 1, commands: ['bench'], modes: ['pingpong'], help: 'messages in flight per connection' },
  {
    flag: 'rate', key: 'rate', kind: 'integer', arg: 'N', min: 1, max: 1_000_000, commands: ['bench'], modes: ['connect'],
    help: 'N new connections a second, open loop (at most --connections under way); without it each loop reconnects when done',
  },
  {
    flag: 'timeout', short: 'w', key: 'timeoutMs', kind: 'seconds', arg: 'SECS', min: 1, max: 3_600_000, default: 10_000, commands: ['bench'],
    help: 'a connect, or an echo with no progress, taking longer than this is an error',
  },
  {
    flag: 'threads', key: 'threads', kind: 'integer', arg: 'N', min: 1, max: 64, default: 1, commands: ['bench'],
    help: 'spread the connections over N threads, each with its own event loop, when one core cannot keep the server busy',
  },
  { flag: 'json', key: 'json', kind: 'flag', cliOnly: true, commands: ['bench', 'bench-merge'], help: 'print one JSON object with every figure on stdout, nothing else' },
];

const ping: OptionSpec[] = [
  {
    flag: 'interval', short: 'i', key: 'intervalMs', kind: 'seconds', arg: 'SECS', min: 10, max: DAY_MS, default: 1000, commands: ['ping'],
    help: 'time from the start of one probe to the start of the next; probes never overlap, so a slower probe delays the next',
  },
  { flag: 'size', short: 's', key: 'size', kind: 'size', arg: 'SIZE', min: 1, max: 64 * 2 ** 20, default: 64, commands: ['ping'], help: 'bytes per probe: 64, 1k, 64KiB' },
  { flag: 'count', short: 'c', key: 'count', kind: 'integer', arg: 'N', min: 1, max: Number.MAX_SAFE_INTEGER, defaultText: 'until Ctrl-C', commands: ['ping'], help: 'stop after N probes' },
  {
    flag: 'probe-timeout', short: 'W', key: 'probeTimeoutMs', kind: 'seconds', arg: 'SECS', min: 10, max: DAY_MS, default: 2000, commands: ['ping'],
    help: 'a probe not echoed within this long, connect included, is a timeout',
  },
  {
    flag: 'keep', key: 'keep', kind: 'flag', default: false, commands: ['ping'],
    help: 'probe over one connection instead of a new one per probe; a failed probe closes it and the next opens another',
  },
  { flag: 'quiet', short: 'q', key: 'quiet', kind: 'flag', cliOnly: true, commands: ['ping'], help: 'print only the summary' },
  { flag: 'json', key: 'json', kind: 'flag', cliOnly: true, commands: ['ping'], help: 'print one JSON object with the summary and every probe on stdout, nothing else' },
];

/** Every option, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = [...server, ...families, ...client, ...tlsClient, ...bench, ...ping, ...udp, ...common];

/** The options one subcommand takes, in help order. */
export function optionsOf(command: Command): OptionSpec[] {
  return OPTIONS.filter((spec) => spec.commands.includes(command));
}

/** The server's fault flags: command-line forms of the library's `faults` object (`faults.delayMs`, ...). */
function faultOptions(): OptionSpec[] {
  const fault = (flag: string, key: string, kind: ValueKind, arg: string, help: string, max = Number.MAX_SAFE_INTEGER): OptionSpec =>
    ({ flag, key, kind, arg, min: 0, max, cliOnly: true, libraryText: `\`faults.${key}\``, commands: ['server'], help, group: 'faults' });
  return [
    fault('delay', 'delayMs', 'integer', 'MS', 'fault: hold each echo this many milliseconds, byte order kept', DAY_MS),
    fault('jitter', 'jitterMs', 'integer', 'MS', 'fault: add a uniform random ±MS to each delay (never below 0)', DAY_MS),
    { ...fault('bandwidth', 'bandwidthKbps', 'integer', 'KBPS', "fault: pace each connection's echo to this many kilobytes (1000 bytes) a second", 10_000_000), min: 1 },
    fault('chunk', 'chunk', 'text', 'BYTES[:MS]', 'fault: write each echo in pieces of at most BYTES, MS apart (default 0: the next turn), each its own segment'),
    fault('close-after', 'closeAfter', 'integer', 'BYTES', 'fault: after echoing this many bytes, close the connection (FIN)'),
    fault('reset-after', 'resetAfter', 'integer', 'BYTES', 'fault: after echoing this many bytes, reset the connection (RST)'),
    fault('stall-after', 'stallAfter', 'integer', 'BYTES', 'fault: after echoing this many bytes, stop echoing and reading; the connection stays open'),
    fault('refuse-rate', 'refuseRate', 'fraction', 'P', 'fault: reset this share (0-1) of new connections at once', 1),
    fault('accept-delay', 'acceptDelayMs', 'integer', 'MS', 'fault: accepted connections wait this long before their first byte is read', DAY_MS),
    fault('fault-rate', 'faultRate', 'fraction', 'P', 'the share (0-1) of connections the echo faults apply to, drawn per connection (default 1)', 1),
  ];
}
