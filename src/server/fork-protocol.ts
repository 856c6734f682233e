import type { ProxiedPeer } from './connection-events.js';
import type { EchoResult } from './echo-connection.js';
import type { EchoSettings } from './echo-settings.js';
import type { Faults } from './faults/faults.js';

// The messages between the fork-mode parent and each child, over the IPC channel.

/**
 * Child to parent: the child listens on this loopback port for its warm-up. Parent to child: the
 * same, with the socket the parent connected to that port as the handle (none if it could not
 * connect), so that receiving a socket over IPC has run once before a client's does.
 */
export interface WarmUpMessage {
  type: 'warm-up';
  port: number;
}

/** Child to parent: listening for its connection. */
export interface ReadyMessage {
  type: 'ready';
}

/** Child to parent: it has the client's socket (the end of the hand-off the parent times). */
export interface TakenMessage {
  type: 'taken';
}

/** Child to parent, with the PROXY protocol: the header is read; the addresses it carried. */
export interface ProxiedMessage {
  type: 'proxied';
  peer: ProxiedPeer;
}

/** Child to parent: its connection has closed; the child exits right after. */
export interface ClosedMessage {
  type: 'closed';
  result: EchoResult;
}

/** Parent to child, its first message: how to serve its connection (never on its command line: it may hold a TLS key). */
export interface SettingsMessage {
  type: 'settings';
  settings: EchoSettings;
}

/** Parent to child, sent with the socket handle. */
export interface SocketMessage {
  type: 'socket';
  /** The connection's id, as the parent's events give it (the hex dump's headers name it). */
  id: number;
}

/** Parent to child (and to cluster workers): the faults in force from now on; answered with `faults-applied`. */
export interface FaultsMessage {
  type: 'faults';
  faults: Faults | undefined;
  serial: number;
}

/** Child to parent: the `faults` message of that serial is in force. */
export interface FaultsAppliedMessage {
  type: 'faults-applied';
  serial: number;
}

export type ChildMessage = ReadyMessage | TakenMessage | ProxiedMessage | ClosedMessage | WarmUpMessage | FaultsAppliedMessage;

const CHILD_MESSAGES = new Set(['ready', 'taken', 'proxied', 'closed', 'warm-up', 'faults-applied']);

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && 'type' in value && CHILD_MESSAGES.has(value.type as string);
}
