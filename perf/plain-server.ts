// The baseline of `npm run bench:compare`: the plain Node echo server of the issue, verbatim.
// Prints its port on stdout; given a path, listens on that Unix socket instead and prints the path.
import net from 'node:net';

const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.on('error', () => {});
  s.pipe(s);
});
const path = process.argv[2];
if (path === undefined) {
  server.listen(0, '127.0.0.1', () => {
    console.log((server.address() as net.AddressInfo).port);
  });
} else {
  server.listen(path, () => console.log(path));
  // Removes the socket file (libuv does, on close) when bench:compare stops it.
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
