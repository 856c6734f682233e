// The entry of one fork-mode child: it takes over exactly one client connection from the parent,
// echoes it until the client is done, reports, and exits. Kept small on purpose: every import here
// is paid for on every child start.
import net from 'node:net';
import { echoConnection, type EchoResult } from './echo-connection.js';
import { EchoContext } from './echo-context.js';
import type { ClosedMessage, FaultsAppliedMessage, FaultsMessage, ProxiedMessage, ReadyMessage, SettingsMessage, SocketMessage, TakenMessage, WarmUpMessage } from './fork-protocol.js';
import { connectionServing, serveConnection, type ConnectionServing } from './serve-connection.js';

/** The warm-up gives up after this long and the child is ready all the same. */
const WARM_UP_LIMIT_MS = 2000;

/** The warm-up's two ends: our accepted side (playing the client), and the socket the parent sent. */
let warmUpPeer: net.Socket | undefined;
let warmUpSocket: net.Socket | undefined;
/** Ends the warm-up, whichever way it went; undefined once it has ended. */
let finishWarmUp: (() => void) | undefined;

// The parent decides when children stop. A Ctrl-C in a terminal reaches the whole process group,
// and the parent lets connections drain before it ends its children.
process.on('SIGINT', () => {});
/** This process's echo state; `TCPECHO_ADOPT=0` in the environment turns adoption off (echo-context.ts). */
const echoContext = new EchoContext();
/** How to serve the connection: set by the parent's first message, before the warm-up. */
let serving: ConnectionServing | undefined;
let served = false;
// Exit with the parent, even when it was SIGKILLed: the IPC channel closing is the one sign of it.
process.on('disconnect', () => process.exit(0));
process.on('message', childOnMessage);

/**
 * Runs, once, everything a client's connection will run before saying we are ready: the parent
 * connects to a loopback port of ours and sends us that socket over IPC, as it will send the
 * client's; then one echo on it, our accepted side playing the client. A child serves one client,
 * so without this every client's first bytes would pay for compiling those paths: measured here,
 * ~3.4 ms for a first socket received over IPC, ~0.7 ms once the path has run. If anything fails
 * we are ready all the same.
 */
function warmUp(ready: () => void): void {
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    finishWarmUp = undefined;
    clearTimeout(limit);
    warmUpPeer?.destroy();
    warmUpSocket?.destroy();
    warmUpPeer = warmUpSocket = undefined;
    server.close();
    ready();
  };
  finishWarmUp = finish;
  const limit = setTimeout(finish, WARM_UP_LIMIT_MS);
  const server = net.createServer({ allowHalfOpen: true }, (peer) => {
    // One connection only: the parent's. It plays the client, and writes once the parent's socket
    // has reached us (see childOnMessage).
    server.close();
    warmUpPeer = peer;
    peer.on('error', finish);
    peer.once('data', () => peer.end());
    peer.once('end', finish);
    startWarmUpEcho();
  });
  server.on('error', finish);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as net.AddressInfo;
    if (process.send === undefined) return finish();
    process.send({ type: 'warm-up', port } satisfies WarmUpMessage, undefined, {}, (err) => err && finish());
  });
}

/** Once both ends are here (they arrive in either order), our side sends the byte to echo. */
function startWarmUpEcho(): void {
  // Only then may our side write: until the socket is here, the parent holds it.
  if (warmUpPeer !== undefined && warmUpSocket !== undefined) warmUpPeer.write('w');
}

function childOnMessage(message: unknown, handle: unknown): void {
  if (isMessage(message, 'faults')) {
    // Its connection reads them at its next read; a spare's connection starts with them.
    const { faults, serial } = message as FaultsMessage;
    echoContext.faults = faults;
    if (serving !== undefined) serving.context.faults = faults;
    send({ type: 'faults-applied', serial } satisfies FaultsAppliedMessage);
    return;
  }
  if (isMessage(message, 'settings')) {
    void connectionServing(echoContext, (message as SettingsMessage).settings).then((made) => {
      serving ??= made;
      warmUp(() => send({ type: 'ready' } satisfies ReadyMessage));
    });
    return;
  }
  if (isMessage(message, 'warm-up')) {
    if (!(handle instanceof net.Socket) || finishWarmUp === undefined) {
      if (handle instanceof net.Socket) handle.destroy();
      return finishWarmUp?.();
    }
    warmUpSocket = echoConnection(handle, echoContext, () => {});
    startWarmUpEcho();
    return;
  }
  if (!isMessage(message, 'socket') || !(handle instanceof net.Socket) || serving === undefined) return;
  // One client per process, as in the classic design: a second socket is refused.
  if (served) return void handle.destroy();
  served = true;
  const proxied = serving.settings.proxyProtocol === true ? childOnProxied : undefined;
  serveConnection(handle, serving, childOnEchoDone, (message as SocketMessage).id, proxied);
  // After the connection is served, so that its first read does not wait for this write; before
  // anything of it can be reported (that needs the socket's I/O), so the parent gets them in order.
  send({ type: 'taken' } satisfies TakenMessage);
}

function childOnProxied(peer: ProxiedMessage['peer']): void {
  send({ type: 'proxied', peer } satisfies ProxiedMessage);
}

function childOnEchoDone(result: EchoResult): void {
  send({ type: 'closed', result } satisfies ClosedMessage, () => process.exit(0));
}

function send(message: object, callback?: () => void): void {
  if (process.send === undefined || !process.connected) {
    process.exit(0);
  }
  process.send(message, undefined, {}, () => callback?.());
}

function isMessage(value: unknown, type: string): boolean {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === type;
}
