// TLS on the server, in every mode: byte-exact echo, half-close, many clients, mutual TLS, and
// every failed handshake ending its own connection alone, with its reason.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { describe, test, type TestContext } from 'node:test';
import type { ConnectionClose, EchoServer, EchoServerOptions } from '../../src/index.js';
import { testCertificates } from '../helpers/certs.js';
import { readAll, readExactly } from '../helpers/echo.js';
import { startTestServer } from '../helpers/server.js';
import { until, within } from '../helpers/timeout.js';

const MODES: EchoServerOptions[] = [{ mode: 'event' }, { mode: 'fork', spare: 1 }, { mode: 'cluster', workers: 2 }];

async function tlsServer(t: TestContext, base: EchoServerOptions, tlsOptions: Partial<NonNullable<Exclude<EchoServerOptions['tls'], true>>> = {}, extra: EchoServerOptions = {}): Promise<EchoServer> {
  const certs = await testCertificates();
  return startTestServer(t, { ...base, ...extra, tls: { cert: certs.server.cert, key: certs.server.key, ...tlsOptions } });
}

async function tlsClient(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  const certs = await testCertificates();
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca.cert, ...options });
  await within(once(socket, 'secureConnect'), 10_000, 'TLS handshake');
  return socket;
}

/** The next `disconnect` event of `server`. */
function nextClose(server: EchoServer): Promise<ConnectionClose> {
  return within(once(server, 'disconnect').then(([info]) => info as ConnectionClose), 15_000, 'disconnect event');
}

for (const base of MODES) {
  describe(`TLS, mode ${String(base.mode)}`, () => {
    test('echoes 16 MiB of random bytes exactly, then ends after the client half-closes', async (t) => {
      const server = await tlsServer(t, base);
      const socket = await tlsClient(server.address.port);
      t.after(() => socket.destroy());
      const data = randomBytes(16 * 2 ** 20);
      const received = readAll(socket);
      socket.end(data);
      const echoed = await within(received, 60_000, '16 MiB echo');
      assert.equal(echoed.length, data.length);
      assert.ok(echoed.equals(data), 'the echo differs');
    });

    test('a half-closed client still gets the echo of everything it sent, then the server ends', async (t) => {
      const server = await tlsServer(t, base);
      const closed = nextClose(server);
      const socket = await tlsClient(server.address.port);
      t.after(() => socket.destroy());
      const received = readAll(socket);
      socket.write('first ');
      socket.end('last');
      assert.equal((await within(received, 10_000, 'echo')).toString(), 'first last');
      const info = await closed;
      assert.equal(info.reason, 'eof');
      assert.equal(info.tls?.protocol, 'TLSv1.3');
      assert.match(info.tls?.cipher ?? '', /^TLS_/);
    });

    test('100 concurrent TLS clients each get their own bytes back', async (t) => {
      const server = await tlsServer(t, base);
      const sockets: tls.TLSSocket[] = [];
      t.after(() => sockets.forEach((s) => s.destroy()));
      // All at once; in fork mode those past --max-children wait, handshake included, for a child.
      await within(Promise.all(Array.from({ length: 100 }, async (_, i) => {
        const socket = tls.connect({ host: '127.0.0.1', port: server.address.port, servername: 'localhost', ca: (await testCertificates()).ca.cert });
        sockets.push(socket);
        const data = randomBytes(4096 + i);
        const received = readAll(socket);
        socket.end(data);
        assert.ok((await received).equals(data), `client ${i} got other bytes`);
      })), 90_000, '100 TLS clients');
    });

    test('a plain-text client fails its handshake alone: closed, nothing echoed, reason tls-error', async (t) => {
      const server = await tlsServer(t, base);
      const good = await tlsClient(server.address.port);
      t.after(() => good.destroy());
      const closed = nextClose(server);
      const plain = net.connect({ host: '127.0.0.1', port: server.address.port });
      plain.on('error', () => {});
      plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const got = await within(readAll(plain).catch(() => Buffer.alloc(0)), 10_000, 'plain client closed');
      assert.ok(!got.includes('GET'), 'the plain text was echoed');
      const info = await closed;
      assert.equal(info.reason, 'tls-error');
      assert.match(info.errorCode ?? '', /^ERR_SSL_/);
      // The connection already served is untouched.
      good.write('still here');
      assert.equal((await within(readExactly(good, 10), 5000, 'echo after')).toString(), 'still here');
    });

    test('a client that never sends a ClientHello is closed at the handshake timeout', async (t) => {
      const server = await tlsServer(t, base, {}, { handshakeTimeoutMs: 1000 });
      const closed = nextClose(server);
      const silent = net.connect({ host: '127.0.0.1', port: server.address.port });
      silent.on('error', () => {});
      const started = performance.now();
      await within(once(silent, 'close'), 10_000, 'silent client closed');
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 900, `closed after ${elapsed.toFixed(0)} ms, before the timeout`);
      const info = await closed;
      assert.equal(info.reason, 'tls-error');
      assert.equal(info.errorCode, 'ERR_TLS_HANDSHAKE_TIMEOUT');
    });

    test('mutual TLS, require: a client without a certificate is refused, one with a certificate from the CA is served', async (t) => {
      const certs = await testCertificates();
      const server = await tlsServer(t, base, { ca: certs.ca.cert, clientCert: 'require' });
      const refused = nextClose(server);
      const anonymous = tls.connect({ host: '127.0.0.1', port: server.address.port, servername: 'localhost', ca: certs.ca.cert });
      anonymous.on('error', () => {});
      anonymous.write('anyone?');
      const got = await within(readAll(anonymous).catch(() => Buffer.alloc(0)), 10_000, 'anonymous closed');
      assert.equal(got.length, 0);
      const info = await refused;
      assert.equal(info.reason, 'tls-error');
      assert.equal(info.errorCode, 'NO_CLIENT_CERT');

      const served = nextClose(server);
      const client = await tlsClient(server.address.port, { cert: certs.client.cert, key: certs.client.key });
      const received = readAll(client);
      client.end('with a certificate');
      assert.equal((await within(received, 10_000, 'echo')).toString(), 'with a certificate');
      assert.equal((await served).tls?.clientSubject, 'CN=tcpecho test client');
    });

    test('mutual TLS, require: a certificate from another CA, or an expired one, is refused with its reason', async (t) => {
      const certs = await testCertificates();
      const server = await tlsServer(t, base, { ca: certs.ca.cert, clientCert: 'require' });
      for (const [pair, code] of [[certs.otherCa, 'DEPTH_ZERO_SELF_SIGNED_CERT'], [certs.expiredClient, 'CERT_HAS_EXPIRED']] as const) {
        const refused = nextClose(server);
        const socket = tls.connect({ host: '127.0.0.1', port: server.address.port, servername: 'localhost', ca: certs.ca.cert, cert: pair.cert, key: pair.key });
        socket.on('error', () => {});
        socket.write('let me in');
        assert.equal((await within(readAll(socket).catch(() => Buffer.alloc(0)), 10_000, 'refused client closed')).length, 0);
        const info = await refused;
        assert.equal(info.reason, 'tls-error');
        assert.equal(info.errorCode, code);
      }
    });
  });
}

test('mutual TLS, request: clients with and without a certificate are both served; the subject is reported', async (t) => {
  const certs = await testCertificates();
  const server = await tlsServer(t, { mode: 'event' }, { ca: certs.ca.cert, clientCert: 'request' });
  const closes: ConnectionClose[] = [];
  server.on('disconnect', (info) => closes.push(info));
  for (const extra of [{}, { cert: certs.client.cert, key: certs.client.key }]) {
    const socket = await tlsClient(server.address.port, extra);
    const received = readAll(socket);
    socket.end('hi');
    assert.equal((await within(received, 10_000, 'echo')).toString(), 'hi');
  }
  await until(() => closes.length === 2, 5000, 'two closes');
  assert.equal(closes[0]?.tls?.clientSubject, undefined);
  assert.equal(closes[1]?.tls?.clientSubject, 'CN=tcpecho test client');
});

test('ALPN: the protocol negotiated is reported; minVersion TLSv1.3 refuses a TLSv1.2 client', async (t) => {
  const server = await tlsServer(t, { mode: 'event' }, { alpn: ['h2', 'http/1.1'], minVersion: 'TLSv1.3' });
  const closed = nextClose(server);
  const socket = await tlsClient(server.address.port, { ALPNProtocols: ['http/1.1'] });
  assert.equal(socket.alpnProtocol, 'http/1.1');
  socket.end('x');
  await within(readAll(socket), 5000, 'echo');
  assert.equal((await closed).tls?.alpn, 'http/1.1');

  const refused = nextClose(server);
  const old = tls.connect({ host: '127.0.0.1', port: server.address.port, servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
  const [err] = (await within(once(old, 'error'), 5000, 'TLSv1.2 refused')) as [NodeJS.ErrnoException];
  assert.match(err.code ?? '', /ERR_SSL/);
  assert.equal((await refused).reason, 'tls-error');
});

test('tls: true serves a temporary ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1, with its fingerprint', async (t) => {
  const server = await startTestServer(t, { tls: true });
  assert.match(server.tlsFingerprint ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const socket = tls.connect({ host: '127.0.0.1', port: server.address.port, rejectUnauthorized: false });
  await within(once(socket, 'secureConnect'), 10_000, 'handshake');
  const cert = socket.getPeerCertificate();
  assert.equal(cert.fingerprint256, server.tlsFingerprint);
  assert.equal(cert.subjectaltname, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.equal((cert as tls.PeerCertificate & { asn1Curve?: string }).asn1Curve, 'prime256v1');
  const received = readAll(socket);
  socket.end('pinned');
  assert.equal((await within(received, 5000, 'echo')).toString(), 'pinned');
});

test('bad TLS options reject with a coded error before anything listens', async () => {
  const { startEchoServer } = await import('../../src/index.js');
  const certs = await testCertificates();
  const cases: Array<[NonNullable<EchoServerOptions['tls']>, string]> = [
    [{ cert: 'not a certificate', key: certs.server.key }, 'TCPECHO_ERR_TLS_CONFIG'],
    [{ cert: certs.server.cert, key: certs.client.key }, 'TCPECHO_ERR_TLS_CONFIG'],
    [{ cert: certs.server.cert }, 'TCPECHO_ERR_USAGE'],
    [{ clientCert: 'require' }, 'TCPECHO_ERR_USAGE'],
    [{ minVersion: 'TLSv1.0' as 'TLSv1.2' }, 'TCPECHO_ERR_USAGE'],
    [{ alpn: [] }, 'TCPECHO_ERR_USAGE'],
  ];
  for (const [option, code] of cases) {
    await assert.rejects(startEchoServer({ tls: option }), { code }, JSON.stringify(option).slice(0, 80));
  }
});

for (const base of [{ mode: 'cluster', workers: 2 }, { mode: 'fork', spare: 2 }] as EchoServerOptions[]) {
  test(`mode ${String(base.mode)}: a TLS session resumes whichever process serves the next connection (shared ticket keys)`, async (t) => {
    const server = await tlsServer(t, base);
    const certs = await testCertificates();
    let session: Buffer | undefined;
    let resumed = 0;
    for (let i = 0; i < 6; i++) {
      const socket = tls.connect({ host: '127.0.0.1', port: server.address.port, servername: 'localhost', ca: certs.ca.cert, ...(session === undefined ? {} : { session }) });
      socket.on('session', (s: Buffer) => (session = s));
      await within(once(socket, 'secureConnect'), 10_000, 'handshake');
      if (socket.isSessionReused()) resumed++;
      const received = readAll(socket);
      socket.end('x');
      await within(received, 10_000, 'echo');
    }
    // The first is a full handshake; every later one resumes, in cluster mode spread over both workers.
    assert.equal(resumed, 5);
  });
}
