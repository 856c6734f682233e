// The PROXY protocol parser alone: every valid header fed whole, byte by byte and split at every
// point; every strict prefix says `more` (never done, never an error); random bytes and mutated
// headers never throw, and garbage is never accepted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { parse, ProxyHeaderParser, V1_MAX, V2_MAX_LENGTH, V2_SIGNATURE, v1Header, v2Header, type ProxyHeader } from '../../src/server/proxy-protocol.js';

const ALPN = 0x01;
const AUTHORITY = 0x02;
const NOOP = 0x04;

const VALID: Array<[string, Buffer, ProxyHeader]> = [
  ['v1 TCP4', v1Header('192.0.2.7', 51234, '127.0.0.1', 7007), { version: 1, command: 'proxy', remoteAddress: '192.0.2.7', remotePort: 51234, localAddress: '127.0.0.1', localPort: 7007 }],
  ['v1 TCP6', v1Header('2001:db8::1', 65535, '::1', 80), { version: 1, command: 'proxy', remoteAddress: '2001:db8::1', remotePort: 65535, localAddress: '::1', localPort: 80 }],
  ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n'), { version: 1, command: 'local' }],
  ['v1 UNKNOWN bare', Buffer.from('PROXY UNKNOWN\r\n'), { version: 1, command: 'local' }],
  ['v1 longest', Buffer.from(`PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`), {
    version: 1, command: 'proxy', remoteAddress: `${'ffff:'.repeat(7)}ffff`, remotePort: 65535, localAddress: `${'ffff:'.repeat(7)}ffff`, localPort: 65535,
  }],
  ['v2 IPv4', v2Header({ remoteAddress: '198.51.100.9', remotePort: 40000, localAddress: '127.0.0.1', localPort: 7007 }), {
    version: 2, command: 'proxy', remoteAddress: '198.51.100.9', remotePort: 40000, localAddress: '127.0.0.1', localPort: 7007,
  }],
  ['v2 IPv6 with TLVs', v2Header({ remoteAddress: '2001:db8::42', remotePort: 1, localAddress: '::1', localPort: 2 }, [
    [NOOP, Buffer.alloc(5)], [ALPN, Buffer.from('h2')], [0xe0, randomBytes(40)], [AUTHORITY, Buffer.from('echo.example')],
  ]), { version: 2, command: 'proxy', remoteAddress: '2001:db8::42', remotePort: 1, localAddress: '::1', localPort: 2, alpn: 'h2', authority: 'echo.example' }],
  ['v2 LOCAL', v2Header('local'), { version: 2, command: 'local' }],
];

test('the longest v1 line the spec allows (UNKNOWN with full IPv6 fields) is 107 bytes, and is accepted', () => {
  const longest = Buffer.from(`PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`);
  assert.equal(longest.length, V1_MAX);
  assert.equal(parse(longest).state, 'done');
  assert.equal(VALID[4]?.[1].length, 104);
});

for (const [name, bytes, expected] of VALID) {
  test(`${name}: whole, with what follows kept exactly`, () => {
    const after = Buffer.from('after the header\r\n\0\xff');
    const result = new ProxyHeaderParser().push(Buffer.concat([bytes, after]));
    assert.equal(result.state, 'done');
    assert.deepEqual(result.state === 'done' && result.header, expected);
    assert.deepEqual(result.state === 'done' && result.rest, after);
  });

  test(`${name}: every strict prefix is 'more'; split at every point it parses the same`, () => {
    for (let n = 0; n < bytes.length; n++) assert.deepEqual(parse(bytes.subarray(0, n)), { state: 'more' }, `prefix of ${n} bytes`);
    for (let cut = 1; cut < bytes.length; cut++) {
      const parser = new ProxyHeaderParser();
      assert.deepEqual(parser.push(bytes.subarray(0, cut)), { state: 'more' });
      const result = parser.push(bytes.subarray(cut));
      assert.equal(result.state, 'done', `cut at ${cut}`);
      assert.deepEqual(result.state === 'done' && result.header, expected);
    }
    const byByte = new ProxyHeaderParser();
    let last = byByte.push(bytes.subarray(0, 1));
    for (let i = 1; i < bytes.length; i++) last = byByte.push(bytes.subarray(i, i + 1));
    assert.equal(last.state, 'done');
  });
}

const INVALID: Array<[string, Buffer, string]> = [
  ['no header (an echo client)', Buffer.from('hello\n'), 'no header'],
  ['HTTP', Buffer.from('GET / HTTP/1.1\r\n'), 'no header'],
  ['lower-case proxy', Buffer.from('proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'no header'],
  ['v1 over 107 bytes without LF', Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`), 'v1 line too long'],
  ['v1 over 107 bytes with LF', Buffer.from(`PROXY TCP4 1.2.3.4 5.6.7.8 1 2${' '.repeat(90)}\r\n`), 'v1 line too long'],
  ['v1 LF without CR', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'), 'v1 line without CRLF'],
  ['v1 bad family', Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'v1 bad family'],
  ['v1 IPv6 under TCP4', Buffer.from('PROXY TCP4 ::1 ::1 1 2\r\n'), 'v1 bad address'],
  ['v1 missing port', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), 'v1 bad field count'],
  ['v1 port past 65535', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), 'v1 bad port'],
  ['v1 port with a leading zero', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'), 'v1 bad port'],
  ['v1 double space', Buffer.from('PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'), 'v1 bad field count'],
  ['v2 signature broken', Buffer.concat([V2_SIGNATURE.subarray(0, 11), Buffer.from([0x0b])]), 'no header'],
  ['v2 version 1', withByte(v2Header('local'), 12, 0x10), 'v2 bad version'],
  ['v2 command 2', withByte(v2Header('local'), 12, 0x22), 'v2 bad command'],
  ['v2 family 4', withByte(v2Header({ remoteAddress: '1.2.3.4', remotePort: 1, localAddress: '5.6.7.8', localPort: 2 }), 13, 0x41), 'v2 bad family'],
  ['v2 length past the bound', withLength(v2Header('local'), V2_MAX_LENGTH + 1), 'v2 length past bound'],
  ['v2 IPv4 block too short', withLength(v2Header('local').fill(0x21, 12, 13).fill(0x11, 13, 14), 0), 'v2 truncated addresses'],
  ['v2 TLV past the end', truncatedTlv(), 'v2 truncated TLV'],
];

for (const [name, bytes, what] of INVALID) {
  test(`refused: ${name} (${what}), whole and byte by byte`, () => {
    assert.deepEqual(new ProxyHeaderParser().push(bytes), { state: 'error', what });
    const parser = new ProxyHeaderParser();
    let result = parser.push(bytes.subarray(0, 1));
    for (let i = 1; i < bytes.length && result.state === 'more'; i++) result = parser.push(bytes.subarray(i, i + 1));
    assert.deepEqual(result, { state: 'error', what });
  });
}

test('fuzz: random bytes and mutated headers never throw, never accept what is not a header, and stay bounded', () => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 3000; round++) {
    let bytes: Buffer;
    const base = VALID[random(VALID.length)]?.[1] as Buffer;
    if (round % 3 === 0) {
      bytes = randomBytes(1 + random(300));
    } else {
      bytes = Buffer.from(base);
      for (let flips = 1 + random(3); flips > 0; flips--) bytes[random(bytes.length)] = random(256);
      if (round % 3 === 2) bytes = bytes.subarray(0, random(bytes.length + 1));
    }
    const parser = new ProxyHeaderParser();
    let result: ReturnType<ProxyHeaderParser['push']> = { state: 'more' };
    for (let at = 0; at < bytes.length && result.state === 'more';) {
      const size = 1 + random(20);
      result = parser.push(bytes.subarray(at, at + size));
      at += size;
    }
    if (result.state === 'more') {
      // Still waiting: only ever for less than one header's worth.
      assert.ok(bytes.length < 16 + V2_MAX_LENGTH, `more after ${bytes.length} bytes`);
      if (bytes[0] === 0x50) assert.ok(bytes.length < V1_MAX);
    }
    if (result.state === 'done') {
      // Accepted: it starts with a signature, and what it returned checks out.
      const { header } = result;
      const v1 = bytes.subarray(0, 6).toString('latin1') === 'PROXY ';
      const v2 = bytes.subarray(0, 12).equals(V2_SIGNATURE);
      assert.ok(v1 || v2, 'accepted without a signature');
      if (header.command === 'proxy') {
        assert.ok(typeof header.remoteAddress === 'string' && header.remoteAddress.length > 0);
        assert.ok(Number.isInteger(header.remotePort) && (header.remotePort as number) <= 65535);
      }
    }
  }
});

test('a finished parser takes nothing more', () => {
  const parser = new ProxyHeaderParser();
  assert.equal(parser.push(v2Header('local')).state, 'done');
  assert.equal(parser.push(Buffer.from('x')).state, 'error');
});

function withByte(bytes: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = value;
  return copy;
}

function withLength(bytes: Buffer, length: number): Buffer {
  const copy = Buffer.concat([bytes.subarray(0, 16), Buffer.alloc(Math.max(0, length))]);
  copy.writeUInt16BE(length, 14);
  return copy;
}

function truncatedTlv(): Buffer {
  const header = v2Header({ remoteAddress: '1.2.3.4', remotePort: 1, localAddress: '5.6.7.8', localPort: 2 }, [[ALPN, Buffer.from('h2')]]);
  // The TLV says 200 bytes of value; the block holds 2.
  header.writeUInt16BE(200, 16 + 12 + 1);
  return header;
}
