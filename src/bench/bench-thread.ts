// The entry of one `tcpecho bench --threads N` thread: runs the bench on its share of the
// connections and sends its figures to the main thread (threads.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runShard } from './run-bench.js';
import type { ShardOptions, ThreadMessage } from './threads.js';

const port = parentPort;
if (port === null) throw new Error('bench-thread.js runs as a worker thread');
const stop = new AbortController();
port.on('message', (message) => {
  if (message === 'abort') stop.abort();
});
const { reportProgress, ...options } = workerData as ShardOptions;
const send = (message: ThreadMessage): void => port.postMessage(message);
const { result, noServer } = await runShard({
  ...options,
  signal: stop.signal,
  ...(reportProgress ? { onProgress: (progress) => send({ type: 'progress', ...progress }) } : {}),
});
send({
  type: 'done',
  result,
  noServer: noServer === undefined ? undefined : { code: noServer.code, message: noServer.message },
});
// Nothing is left to do: with the port closed the thread's event loop empties and the thread ends
// by itself (see runThreaded for why it is not terminated).
port.close();
