// How `tcpecho client` reads where to connect: the ways nc users write an address.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFamily, parseTarget } from '../../src/cli/address.js';

const defaults = { host: 'localhost', port: 7007 };

test('the accepted forms give the host and port meant', () => {
  const cases: [string[], string, number][] = [
    [[], 'localhost', 7007],
    [['9000'], 'localhost', 9000],
    [['0'], 'localhost', 0],
    [['example.test'], 'example.test', 7007],
    [['127.0.0.1'], '127.0.0.1', 7007],
    [['127.0.0.1', '9000'], '127.0.0.1', 9000],
    [['127.0.0.1:9000'], '127.0.0.1', 9000],
    [['localhost:9000'], 'localhost', 9000],
    [['::1'], '::1', 7007],
    [['fe80::1%lo'], 'fe80::1%lo', 7007],
    [['[::1]'], '::1', 7007],
    [['[::1]:9000'], '::1', 9000],
    [['[::1]', '9000'], '::1', 9000],
    [['::1', '9000'], '::1', 9000],
  ];
  for (const [positionals, host, port] of cases) {
    assert.deepEqual(parseTarget(positionals, defaults), { host, port }, positionals.join(' '));
  }
});

test('a bad port is the usage error that names PORT', () => {
  for (const [positionals, bad] of [
    [['70000'], '70000'],
    [['127.0.0.1', 'x'], 'x'],
    [['127.0.0.1:x'], 'x'],
    [['127.0.0.1:'], ''],
    [['[::1]:99999'], '99999'],
    [['[::1]', '-1'], '-1'],
    [['localhost:1e3'], '1e3'],
  ] as const) {
    assert.throws(() => parseTarget(positionals, defaults), {
      code: 'TCPECHO_ERR_USAGE',
      message: `Expected \`PORT\` to be an integer from 0 to 65535, got \`${bad}\``,
    }, positionals.join(' '));
  }
});

test('too many positionals is a usage error naming the first extra', () => {
  assert.throws(() => parseTarget(['127.0.0.1', '9000', 'extra'], defaults), { code: 'TCPECHO_ERR_USAGE', message: 'Unexpected argument `extra`' });
  assert.throws(() => parseTarget(['127.0.0.1:9000', '9001'], defaults), { code: 'TCPECHO_ERR_USAGE', message: /Unexpected argument `9001`/ });
  assert.throws(() => parseTarget(['[::1]:9000', '9001'], defaults), { code: 'TCPECHO_ERR_USAGE', message: /Unexpected argument `9001`/ });
});

test('a number is never taken for a host name', () => {
  // getaddrinfo reads `9000` as 0.0.35.40: a connection off the machine.
  for (const positionals of [['9000', '9001'], ['9000:80']]) {
    assert.throws(() => parseTarget(positionals, defaults), { code: 'TCPECHO_ERR_USAGE', message: /a lone number is the port/ }, positionals.join(' '));
  }
});

test('malformed hosts are usage errors', () => {
  for (const word of ['', ':9000', '[::1', '[localhost]:9000', '[]', 'a:b:c', '::1:9000:x', '[::1]x']) {
    assert.throws(() => parseTarget([word], defaults), { code: 'TCPECHO_ERR_USAGE' }, JSON.stringify(word));
  }
});

test('-4 and -6 pick the family and refuse a literal of the other one', () => {
  assert.equal(parseFamily(undefined, undefined, 'localhost'), undefined);
  assert.equal(parseFamily(true, undefined, 'localhost'), 4);
  assert.equal(parseFamily(undefined, true, '::1'), 6);
  assert.equal(parseFamily(true, undefined, '127.0.0.1'), 4);
  assert.throws(() => parseFamily(true, true, 'localhost'), { code: 'TCPECHO_ERR_USAGE', message: /at most one of `-4` and `-6`/ });
  assert.throws(() => parseFamily(undefined, true, '127.0.0.1'), { code: 'TCPECHO_ERR_USAGE', message: 'Expected an IPv6 address with `-6`, got `127.0.0.1`' });
  assert.throws(() => parseFamily(true, undefined, '::1'), { code: 'TCPECHO_ERR_USAGE', message: 'Expected an IPv4 address with `-4`, got `::1`' });
});
