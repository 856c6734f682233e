// The public API of tcpecho: start an echo server in-process, open client connections to one.
export { startEchoServer } from './server/echo-server.js';
export { SERVER_MODES } from './server/types.js';
export type { EchoServer, EchoServerOptions, EchoServerAddress, EchoServerEvents, ServerMode, ConnectionReject, CloseOptions, Balance } from './server/types.js';
export type { ConnectionOpen, ConnectionClose } from './server/connection-events.js';
export type { EchoServerMetrics, HistogramFigures } from './server/server-counters.js';
export type { CloseReason, EchoResult } from './server/echo-connection.js';
export { startMetricsEndpoint } from './server/metrics-endpoint.js';
export type { MetricsEndpoint, MetricsEndpointOptions } from './server/metrics-endpoint.js';
export type { ServerMetrics } from './server/metrics.js';
export { startUdpEchoServer } from './server/udp/udp-echo-server.js';
export { REFLECTING_PORTS } from './server/udp/reflection.js';
export type {
  UdpEchoServer,
  UdpEchoServerOptions,
  UdpEchoServerEvents,
  UdpEchoStats,
  UdpSourceInfo,
  UdpSourceEvicted,
  UdpDrop,
  DropReason,
} from './server/udp/types.js';
export { connectEcho } from './client/connect.js';
export type { ConnectOptions } from './client/connect.js';
export type { TlsClientOptions } from './client/tls.js';
export type { EchoOptions, RoundTripOptions } from './client/round-trip.js';
export { echoRoundTrip, collectEcho } from './client/round-trip.js';
export { pipeThrough } from './client/pipe.js';
export { halfClose } from './half-close.js';
export { ping } from './ping/ping.js';
export { PROBE_FAILURES } from './ping/types.js';
export type { PingOptions, PingResult, ProbeResult, ProbeEchoed, ProbeFailed, ProbeFailure, TimeStats } from './ping/types.js';
export type { PipeResult } from './client/pipe.js';
export {
  TcpechoError,
  UsageError,
  AddressInUseError,
  PermissionDeniedError,
  ListenError,
  ConnectError,
  ConnectTimeoutError,
  ConnectionError,
  ShortEchoError,
  EchoMismatchError,
  EchoTimeoutError,
  EchoTooLongError,
  AbortError,
  WorkerStartError,
  TlsVerifyError,
  TlsHandshakeError,
  DatagramsLostError,
  MergeError,
} from './errors.js';
