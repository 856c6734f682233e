// The library's TLS client: connectEcho({ tls }) verifies (system CAs, ca, a pinned fingerprint,
// the host name, expiry), pins, skips with insecure, presents a client certificate, counts the
// handshake in its deadline, half-closes with close_notify, and says why in one coded error.
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { collectEcho, connectEcho, echoRoundTrip } from '../../src/index.js';
import { testCertificates } from '../helpers/certs.js';
import { listenOnLoopback } from '../helpers/server.js';
import { startTlsEcho } from '../helpers/tls-echo.js';
import { within } from '../helpers/timeout.js';

const certs = await testCertificates();
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

test('tls with ca: a verified TLSSocket that echoes, and echoRoundTrip over it', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const socket = await connectEcho({ host: '127.0.0.1', port: server.port, tls: { ca: certs.ca.cert } });
  t.after(() => socket.destroy());
  assert.ok(socket instanceof tls.TLSSocket);
  assert.equal(socket.authorized, true);
  assert.match(socket.getProtocol() ?? '', /^TLSv1\.[23]$/);
  const data = randomBytes(300_000);
  assert.ok((await collectEcho(socket, data, { timeoutMs: 10_000 })).equals(data));
  assert.ok((await echoRoundTrip(data, { host: '127.0.0.1', port: server.port, tls: { ca: certs.ca.cert } })).equals(data));
});

test('half-close over TLS: end() sends close_notify and FIN, and the whole echo still comes back', async (t) => {
  // This server echoes nothing until the client has ended its side: only a half-close gets it.
  const server = await startTlsEcho(t, certs.server, {}, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(chunks)));
  });
  const data = randomBytes(1_000_000);
  const echoed = await echoRoundTrip(data, { host: '127.0.0.1', port: server.port, tls: { ca: certs.ca.cert }, timeoutMs: 10_000 });
  assert.ok(echoed.equals(data));
});

for (const [name, pair, why] of [
  ['unknown CA', certs.server, /certificate signed by an unknown authority/],
  ['wrong host', certs.wrongHost, /hostname mismatch: the certificate is for DNS:wrong\.example, not 127\.0\.0\.1/],
  ['expired', certs.expired, /certificate has expired/],
] as const) {
  test(`a refused certificate (${name}) rejects with TCPECHO_ERR_TLS_VERIFY saying why`, async (t) => {
    const server = await startTlsEcho(t, pair);
    const ca = name === 'unknown CA' ? certs.otherCa.cert : certs.ca.cert;
    await assert.rejects(connectEcho({ host: '127.0.0.1', port: server.port, tls: { ca } }), (err: Error & { code: string }) => {
      assert.equal(err.code, 'TCPECHO_ERR_TLS_VERIFY');
      assert.match(err.message, why);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  });
}

test('tls: true verifies against the system CAs: a private CA is unknown to them', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  await assert.rejects(connectEcho({ host: '127.0.0.1', port: server.port, tls: true }), { code: 'TCPECHO_ERR_TLS_VERIFY', message: /unknown authority/ });
});

test('servername: the name checked (and sent in SNI) instead of the host', async (t) => {
  const server = await startTlsEcho(t, certs.wrongHost);
  const echoed = await echoRoundTrip(Buffer.from('sni'), { host: '127.0.0.1', port: server.port, tls: { ca: certs.ca.cert, servername: 'wrong.example' } });
  assert.equal(echoed.toString(), 'sni');
});

test('servername as an IP address: checked against the certificate, not sent in SNI (no warning)', async (t) => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): number => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const right = await startTlsEcho(t, certs.server);
  const echoed = await echoRoundTrip(Buffer.from('ip'), { host: '127.0.0.1', port: right.port, tls: { ca: certs.ca.cert, servername: '::1' } });
  assert.equal(echoed.toString(), 'ip');
  const wrong = await startTlsEcho(t, certs.wrongHost);
  await assert.rejects(connectEcho({ host: '127.0.0.1', port: wrong.port, tls: { ca: certs.ca.cert, servername: '127.0.0.1' } }), { code: 'TCPECHO_ERR_TLS_VERIFY', message: /hostname mismatch/ });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings.map((w) => w.message), []);
});

test('a pinned fingerprint, with or without colons, any case, accepts a certificate no CA vouches for', async (t) => {
  const selfSigned = certs.otherCa;
  const server = await startTlsEcho(t, selfSigned);
  const pin = fingerprint(selfSigned.cert);
  for (const form of [pin, pin.replaceAll(':', '').toLowerCase()]) {
    const echoed = await echoRoundTrip(Buffer.from('pinned'), { host: '127.0.0.1', port: server.port, tls: { fingerprint: form } });
    assert.equal(echoed.toString(), 'pinned');
  }
});

test('a wrong pin is refused, naming both fingerprints', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const wrong = fingerprint(certs.client.cert);
  await assert.rejects(connectEcho({ host: '127.0.0.1', port: server.port, tls: { fingerprint: wrong } }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'TCPECHO_ERR_TLS_VERIFY');
    assert.ok(err.message.includes(fingerprint(certs.server.cert)), err.message);
    assert.ok(err.message.includes(wrong), err.message);
    return true;
  });
});

test('a pin with ca: both must hold', async (t) => {
  const server = await startTlsEcho(t, certs.server);
  const pin = fingerprint(certs.server.cert);
  const port = server.port;
  assert.equal((await echoRoundTrip(Buffer.from('x'), { host: '127.0.0.1', port, tls: { ca: certs.ca.cert, fingerprint: pin } })).toString(), 'x');
  await assert.rejects(connectEcho({ host: '127.0.0.1', port, tls: { ca: certs.otherCa.cert, fingerprint: pin } }), { code: 'TCPECHO_ERR_TLS_VERIFY', message: /unknown authority/ });
});

test('insecure accepts an expired certificate for the wrong host', async (t) => {
  const server = await startTlsEcho(t, certs.expired);
  const echoed = await echoRoundTrip(Buffer.from('anyway'), { host: '127.0.0.1', port: server.port, tls: { insecure: true, servername: 'wrong.example' } });
  assert.equal(echoed.toString(), 'anyway');
});

test('mutual TLS: served with the client certificate, refused without one', async (t) => {
  const server = await startTlsEcho(t, certs.server, { ca: certs.ca.cert, requestCert: true, rejectUnauthorized: true });
  const port = server.port;
  const withCert = { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key };
  assert.equal((await echoRoundTrip(Buffer.from('mutual'), { host: '127.0.0.1', port, tls: withCert })).toString(), 'mutual');
  assert.deepEqual(server.clientSubjects, ['tcpecho test client']);
  // TLS 1.3: the client's handshake is over before the server has judged it; the refusal is an
  // alert on the first read, and still a TLS error in one line.
  await assert.rejects(echoRoundTrip(Buffer.from('none'), { host: '127.0.0.1', port, tls: { ca: certs.ca.cert } }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'TCPECHO_ERR_TLS_HANDSHAKE');
    assert.match(err.message, /requires a client certificate/);
    return true;
  });
});

test('a server that does not speak TLS: TCPECHO_ERR_TLS_HANDSHAKE', async (t) => {
  const plain = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  const port = await listenOnLoopback(t, plain);
  await assert.rejects(connectEcho({ host: '127.0.0.1', port, tls: { insecure: true }, timeoutMs: 5000 }), { code: 'TCPECHO_ERR_TLS_HANDSHAKE' });
});

test('the handshake counts in timeoutMs: a server that accepts and never answers times out', async (t) => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
  });
  const port = await listenOnLoopback(t, silent);
  t.after(() => sockets.forEach((s) => s.destroy()));
  const started = Date.now();
  await assert.rejects(connectEcho({ host: '127.0.0.1', port, tls: { insecure: true }, timeoutMs: 300 }), { code: 'TCPECHO_ERR_CONNECT_TIMEOUT' });
  assert.ok(Date.now() - started < 5000);
  // The TCP connection was made: the time went into the handshake.
  assert.equal(sockets.length, 1);
});

test('bad tls options are usage errors before any connection, PEM that cannot be used TCPECHO_ERR_TLS_CONFIG', async () => {
  const bad: Array<[unknown, string]> = [
    [{ cert: certs.client.cert }, 'TCPECHO_ERR_USAGE'],
    [{ key: certs.client.key }, 'TCPECHO_ERR_USAGE'],
    [{ insecure: true, ca: certs.ca.cert }, 'TCPECHO_ERR_USAGE'],
    [{ insecure: true, fingerprint: fingerprint(certs.server.cert) }, 'TCPECHO_ERR_USAGE'],
    [{ fingerprint: 'AB:CD' }, 'TCPECHO_ERR_USAGE'],
    [{ servername: '' }, 'TCPECHO_ERR_USAGE'],
    ['yes', 'TCPECHO_ERR_USAGE'],
    [{ ca: 'not a certificate' }, 'TCPECHO_ERR_TLS_CONFIG'],
    [{ ca: certs.ca.key }, 'TCPECHO_ERR_TLS_CONFIG'],
    [{ cert: 'not PEM', key: certs.client.key }, 'TCPECHO_ERR_TLS_CONFIG'],
    [{ cert: certs.client.cert, key: certs.server.key }, 'TCPECHO_ERR_TLS_CONFIG'],
  ];
  for (const [options, code] of bad) {
    await assert.rejects(async () => connectEcho({ port: 1, tls: options as true }), { code }, JSON.stringify(options));
  }
});

test('an aborted handshake rejects with TCPECHO_ERR_ABORTED', async (t) => {
  const silent = net.createServer((socket) => socket.on('error', () => {}));
  const port = await listenOnLoopback(t, silent);
  const stop = new AbortController();
  const connecting = connectEcho({ host: '127.0.0.1', port, tls: { insecure: true }, signal: stop.signal });
  await within(once(silent, 'connection'), 5000, 'TCP connection');
  stop.abort();
  await assert.rejects(connecting, { code: 'TCPECHO_ERR_ABORTED' });
});
