// The baseline of `npm run bench:compare`'s TLS rows: the plain Node TLS echo server of issue 12,
// verbatim, serving the certificate and key files named on its command line. Prints its port on
// stdout.
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';

const [certFile, keyFile] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined) throw new Error('usage: plain-tls-server CERT KEY');
const server = tls.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (s) => {
  s.on('error', () => {});
  s.pipe(s);
});
server.listen(0, '127.0.0.1', () => {
  console.log((server.address() as net.AddressInfo).port);
});
