import type { ConnectionClose, ConnectionOpen } from './connection-events.js';
import type { EchoSettings } from './echo-settings.js';
import type { FaultsMessage } from './fork-protocol.js';
import type { ConnectionReject } from './types.js';

// The messages between the cluster-mode primary and its workers, over the IPC channel.

/** Sent to each worker first, over IPC (never on its command line: it may hold a TLS key). */
export interface ClusterWorkerConfig {
  index: number;
  workers: number;
  /** This worker's share of `maxConnections`. */
  maxConnections: number;
  settings: EchoSettings;
  /** Listening on a Unix socket: connections have no peer address. */
  unix: boolean;
  /** `allow` and `deny`, for the connections the worker accepts itself (balance `shared`). */
  allow: string[];
  deny: string[];
}

export type WorkerMessage =
  | { type: 'ready' }
  /** With the PROXY protocol: a connection taken, its `open` waiting for the header. */
  | { type: 'accepted'; info: ConnectionOpen }
  | { type: 'open'; info: ConnectionOpen }
  | { type: 'close'; info: ConnectionClose }
  | { type: 'reject'; remoteAddress: string; remotePort: number; reason: ConnectionReject['reason'] }
  | { type: 'faults-applied'; serial: number }
  | { type: 'warning'; message: string };

/** `socket` and `listen` travel with a handle. */
export type PrimaryMessage = { type: 'config'; config: ClusterWorkerConfig } | FaultsMessage | { type: 'socket' } | { type: 'listen' } | { type: 'drain'; timeoutMs: number };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string';
}
