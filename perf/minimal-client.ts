// The floor of a Node ping-pong client, to measure `tcpecho bench` against: the same reads into
// one reused buffer (`onread`) and the same one write per message from `setImmediate`, but no
// checking, no clock and no latency record. What `tcpecho bench` costs beyond this is what its
// verification costs (README, "Performance").
//
//   node build/perf/minimal-client.js PORT [--connections 50] [--size 1024] [--seconds 4]
//
// Connects to 127.0.0.1:PORT only. Counts for `--seconds` after one second of warm-up, prints one
// JSON line: messages/s and the process's user and system CPU per message, µs.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    connections: { type: 'string', default: '50' },
    size: { type: 'string', default: '1024' },
    seconds: { type: 'string', default: '4' },
  },
});
const port = Number(positionals[0]);
const connections = Number(values.connections);
const size = Number(values.size);
const seconds = Number(values.seconds);
if (![port, connections, size, seconds].every((n) => Number.isFinite(n) && n > 0) || port > 65535 || size > 65536 || seconds > 600) {
  console.error('usage: minimal-client PORT [--connections N] [--size BYTES, at most 65536] [--seconds S, at most 600]');
  process.exit(2);
}

const message = Buffer.alloc(size, 0x61);
const readBuffer = Buffer.allocUnsafe(65536);
const due: net.Socket[] = [];
let flushScheduled = false;
let counting = false;
let messages = 0;

function flush(): void {
  flushScheduled = false;
  for (const socket of due) socket.write(message);
  due.length = 0;
}

function sendNext(socket: net.Socket): void {
  due.push(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

for (let i = 0; i < connections; i++) {
  let pending = 0;
  const socket: net.Socket = net.connect({
    port,
    host: '127.0.0.1',
    noDelay: true,
    onread: {
      buffer: readBuffer,
      callback: (n: number) => {
        pending += n;
        for (; pending >= size; pending -= size) {
          if (counting) messages++;
          sendNext(socket);
        }
        return true;
      },
    },
  });
  socket.on('connect', () => sendNext(socket));
  socket.on('error', (err) => {
    console.error(`minimal-client: ${err.message}`);
    process.exit(1);
  });
}

setTimeout(() => {
  counting = true;
  const cpu = process.cpuUsage();
  const started = performance.now();
  setTimeout(() => {
    const used = process.cpuUsage(cpu);
    const elapsed = (performance.now() - started) / 1000;
    console.log(JSON.stringify({
      messagesPerS: Math.round(messages / elapsed),
      userUsPerMessage: Number((used.user / messages).toFixed(2)),
      systemUsPerMessage: Number((used.system / messages).toFixed(2)),
    }));
    process.exit(0);
  }, seconds * 1000);
}, 1000);
