// The baseline of `npm run bench:compare`: the plain Node echo server of the issue, verbatim.
// Prints its port on stdout.
import net from 'node:net';

const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.on('error', () => {});
  s.pipe(s);
});
server.listen(0, '127.0.0.1', () => {
  console.log((server.address() as net.AddressInfo).port);
});
