// The floor of a Node echo server built the way event mode is, to measure event mode against:
// each accepted socket moved to `onread` on one shared buffer (adopt-socket.ts), each read copied
// out and its echo made with the rest of the turn's (WriteBatch), and nothing else: no byte
// counts, no timers, no log, no connection record, no pool for streaming reads. What event mode
// costs beyond this is what tcpecho adds per connection and per read (README, "Performance").
//
//   node build/perf/minimal-echo.js [PORT]     (default 0: a free port, printed on stdout)
//
// Listens on 127.0.0.1 only. Ping-pong traffic only: a client that does not read is not paused.
import net from 'node:net';
import { adoptWithOnread } from '../src/server/adopt-socket.js';
import { WriteBatch } from '../src/write-batch.js';

const port = Number(process.argv[2] ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: minimal-echo [PORT]');
  process.exit(2);
}

const readBuffer = Buffer.allocUnsafe(65_536);
const writes = new WriteBatch();

const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (accepted) => {
  const socket: net.Socket | undefined = adoptWithOnread(accepted, {
    buffer: readBuffer,
    callback: (n: number) => {
      writes.add(socket as net.Socket, Buffer.from(readBuffer.subarray(0, n)));
      return true;
    },
  }, true);
  if (socket === undefined) {
    accepted.destroy();
    return;
  }
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.on('end', () => {
    writes.flush();
    socket.end();
  });
  socket.resume();
});
server.listen(port, '127.0.0.1', () => console.log((server.address() as net.AddressInfo).port));
process.on('SIGTERM', () => process.exit(0));
