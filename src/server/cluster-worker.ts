// The entry of one cluster-mode worker: the same per-connection stages as event mode, fed either by
// sockets the primary hands over (round-robin) or by accepting on the listening socket the primary
// shares with it. Every connection event goes to the primary, which logs and counts. Its settings
// come as the primary's first message.
import net from 'node:net';
import { AddressRules } from './address-rules.js';
import { drainDispatcher, type ConnectionClose, type ConnectionOpen } from './connection-events.js';
import { EchoContext } from './echo-context.js';
import { EventDispatcher } from './event-mode.js';
import { connectionServing } from './serve-connection.js';
import { refusedByFault } from './faults/refuse.js';
import type { ClusterWorkerConfig, PrimaryMessage, WorkerMessage } from './cluster-protocol.js';
import { UNIX_PEER_ADDRESS } from '../unix-path.js';

let config: ClusterWorkerConfig | undefined;
let rules: AddressRules | undefined;
let dispatcher: EventDispatcher | undefined;
const UNIX_PEER = { remoteAddress: UNIX_PEER_ADDRESS, remotePort: 0 } as const;
let nextId = 0;
let draining = false;
let listening: net.Server | undefined;

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

async function configure(given: ClusterWorkerConfig): Promise<void> {
  if (config !== undefined) return;
  config = given;
  rules = AddressRules.from(given.allow, given.deny);
  const serving = await connectionServing(new EchoContext(), config.settings);
  // Faults that arrived while the serving was made.
  serving.context.faults = config.settings.faults;
  dispatcher = new EventDispatcher(
    {
      open: (info: ConnectionOpen) => send({ type: 'open', info }),
      close: (info: ConnectionClose) => send({ type: 'close', info }),
      warning: (error: Error) => send({ type: 'warning', message: error.message }),
    },
    serving,
  );
  send({ type: 'ready' });
}

/**
 * A connection this worker accepted on the shared listening socket: the admission the primary
 * does for the ones it routes (round-robin), here, before anything reads it.
 */
function serveAccepted(socket: net.Socket): void {
  const { remoteAddress, remotePort } = socket;
  if (rules !== undefined && remoteAddress !== undefined && remotePort !== undefined && !rules.allows(remoteAddress)) {
    socket.on('error', () => {});
    socket.destroy();
    send({ type: 'reject', remoteAddress, remotePort, reason: config?.settings.proxyProtocol === true ? 'proxy-untrusted' : 'denied' });
    return;
  }
  serve(socket);
}

/** Takes one accepted connection; ids are unique across workers: index + k × workers. */
function serve(socket: net.Socket): void {
  // A Unix socket's peer has no address: `unix`, port 0.
  const { remoteAddress, remotePort } = config?.unix === true ? UNIX_PEER : socket;
  socket.on('error', () => {});
  if (config === undefined || dispatcher === undefined || remoteAddress === undefined || remotePort === undefined || draining) {
    socket.destroy();
    return;
  }
  if (dispatcher.active >= config.maxConnections) {
    socket.destroy();
    send({ type: 'reject', remoteAddress, remotePort, reason: 'max-connections' });
    return;
  }
  if (refusedByFault(dispatcher.echo.faults, socket)) {
    send({ type: 'reject', remoteAddress, remotePort, reason: 'refused' });
    return;
  }
  const id = nextId++ * config.workers + config.index + 1;
  const info = { id, remoteAddress, remotePort, pid: process.pid };
  // Its `open` waits for the header: the primary learns of it now, so that it can report the
  // connection should this worker die first.
  if (config.settings.proxyProtocol === true) send({ type: 'accepted', info });
  dispatcher.dispatch(socket, info);
}

async function drain(timeoutMs: number): Promise<void> {
  if (draining) return;
  draining = true;
  listening?.close();
  if (dispatcher !== undefined) await drainDispatcher(dispatcher, timeoutMs);
  process.exit(0);
}

process.on('message', (message: PrimaryMessage, handle: unknown) => {
  if (message.type === 'config') {
    void configure(message.config);
  } else if (message.type === 'faults') {
    // The config came first on the same channel, but its serving may still be in the making.
    if (config !== undefined) config.settings.faults = message.faults;
    if (dispatcher !== undefined) dispatcher.echo.faults = message.faults;
    send({ type: 'faults-applied', serial: message.serial });
  } else if (message.type === 'socket' && handle instanceof net.Socket) {
    serve(handle);
  } else if (message.type === 'listen' && handle instanceof net.Server) {
    // `handle` is the primary's listening socket, already accepting here: take its connections.
    listening = handle;
    (handle as net.Server & { allowHalfOpen: boolean }).allowHalfOpen = true;
    handle.on('connection', serveAccepted);
    handle.on('error', (err) => send({ type: 'warning', message: err.message }));
  } else if (message.type === 'drain') {
    void drain(message.timeoutMs);
  }
});
// The primary decides when workers stop (a terminal's Ctrl-C reaches the whole process group).
process.on('SIGINT', () => {});
// Exit with the primary, even when it was SIGKILLed.
process.on('disconnect', () => process.exit(0));
