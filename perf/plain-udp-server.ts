// The UDP baseline of `npm run bench:compare`: the plain Node dgram echo of the issue, verbatim.
// Prints its port on stdout.
import dgram from 'node:dgram';

const s = dgram.createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => {
  console.log(s.address().port);
});
