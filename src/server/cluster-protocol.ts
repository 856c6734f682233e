import type { ConnectionClose, ConnectionOpen } from './connection-events.js';

// The messages between the cluster-mode primary and its workers, over the IPC channel.

/** Given to each worker on its command line. */
export interface ClusterWorkerConfig {
  index: number;
  workers: number;
  idleTimeoutMs: number;
  /** This worker's share of `maxConnections`. */
  maxConnections: number;
  /** Listening on a Unix socket: connections have no peer address. */
  unix: boolean;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'open'; info: ConnectionOpen }
  | { type: 'close'; info: ConnectionClose }
  | { type: 'reject'; remoteAddress: string; remotePort: number }
  | { type: 'warning'; message: string };

/** `socket` and `listen` travel with a handle. */
export type PrimaryMessage = { type: 'socket' } | { type: 'listen' } | { type: 'drain'; timeoutMs: number };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string';
}
