import type net from 'node:net';
import { BufferPool } from './buffer-pool.js';
import { WriteBatch } from '../write-batch.js';
import type { Faults } from './faults/faults.js';

/** Node reads at most this much at once: a read this long means more was waiting (a bulk sender). */
export const FULL_READ = 65_536;

/**
 * Pool buffers: for the reads of connections that send in large pieces, and their echoes'
 * writes. A connection in ping-pong needs two within a turn (its next read's, and the one its
 * held echo is written from), so this serves 64 such connections before the rest go through the
 * shared buffer and a copy: 8 MiB a context at most.
 */
const MAX_POOL_BUFFERS = 128;

export interface EchoContextOptions {
  /**
   * Whether connections are moved to sockets that read into the context's own buffers (see
   * adopt-socket.ts). False serves every connection the stream way, Node's public path.
   * @default true, unless the environment variable `TCPECHO_ADOPT` is `0` when the context is made
   */
  adopt?: boolean;
}

/**
 * What the echoes of one server (a dispatcher, a fork child, a cluster worker) share: the read
 * buffer, the pool, the batch of held writes and the counters. Two servers in one process each
 * have their own, so neither's figures or holds depend on the other's connections.
 *
 * `TCPECHO_ADOPT=0` in the environment turns adoption off for every context made without an
 * explicit `adopt`: the one way to reach fork children and cluster workers, which make theirs at
 * start-up and inherit the parent's environment. The test suite uses it to run every mode on the
 * stream path, so that path keeps working whatever a Node upgrade does to the internals that
 * adoption relies on.
 *
 * The counters are the echo's to keep (echo-connection.ts): read them, never set them.
 */
export class EchoContext {
  readonly adopt: boolean;
  /** Connections read into this one buffer unless they have a pool buffer of their own (echo-connection.ts). */
  readonly readBuffer: Buffer = Buffer.allocUnsafeSlow(FULL_READ);
  /** At most MAX_POOL_BUFFERS × 64 KiB, however many connections there are. */
  readonly bulkBuffers = new BufferPool(FULL_READ, MAX_POOL_BUFFERS);
  /** Echoes of short reads waiting for the end of the event loop's turn (echo-connection.ts). */
  readonly writes = new WriteBatch(pauseReading);
  /** Connections being echoed now. */
  open = 0;
  /** Echoes that have waited for the end of the turn so far. */
  held = 0;
  /** Connections served through `onread` (adopted) so far. */
  adopted = 0;
  /** Connections served the stream way ('data' events) so far. */
  streamed = 0;
  /**
   * The faults in force for this context's connections (`setFaults`); each connection reads them
   * at every read, so a change reaches open connections too.
   */
  faults: Faults | undefined = undefined;

  constructor(options: EchoContextOptions = {}) {
    this.adopt = options.adopt ?? process.env.TCPECHO_ADOPT !== '0';
  }

  /** Pool buffers lent out now: to connections as their next read, or to writes. */
  get bulkBuffersLent(): number {
    return this.bulkBuffers.lent;
  }
}

function pauseReading(socket: net.Socket): void {
  socket.pause();
}
