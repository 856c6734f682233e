import type { EchoResult } from './echo-connection.js';

// The messages between the fork-mode parent and each child, over the IPC channel.

/** Child to parent: listening for its connection. */
export interface ReadyMessage {
  type: 'ready';
}

/** Child to parent: its connection has closed; the child exits right after. */
export interface ClosedMessage {
  type: 'closed';
  result: EchoResult;
}

/** Parent to child, sent with the socket handle. */
export interface SocketMessage {
  type: 'socket';
}

export type ChildMessage = ReadyMessage | ClosedMessage;

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && 'type' in value &&
    (value.type === 'ready' || value.type === 'closed');
}
