import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { peerIdForAddr } from '../../src/ring/index.js';
import { parseAddr, validatePeerRef } from '../../src/wire/index.js';

test('parseAddr accepts host:port and bracketed IPv6, and nothing else', () => {
  assert.deepEqual(parseAddr('127.0.0.1:4001'), { host: '127.0.0.1', port: 4001 });
  assert.deepEqual(parseAddr('node-3.local:65535'), { host: 'node-3.local', port: 65535 });
  assert.deepEqual(parseAddr('[::1]:80'), { host: '::1', port: 80 });
  for (const bad of ['', '127.0.0.1', ':4001', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536', '::1:80', 'a b:1', 'h:1x', '[::1:80', 42, null]) {
    assert.equal(parseAddr(bad), undefined, String(bad));
  }
});

test('validatePeerRef refuses missing peers, short ids and bad addresses with INVALID_REQUEST', () => {
  const addr = '127.0.0.1:4001';
  validatePeerRef({ id: peerIdForAddr(addr), addr }, 'peer');
  const bad: unknown[] = [null, undefined, {}, { id: new Uint8Array(19), addr }, { id: new Uint8Array(0), addr }, { id: peerIdForAddr(addr), addr: '' }, { id: peerIdForAddr(addr), addr: 'nohost' }];
  for (const p of bad) {
    assert.throws(
      () => validatePeerRef(p, 'notify.peer'),
      (e: unknown) => e instanceof RingwireError && e.code === ErrorCode.INVALID_REQUEST && e.message.startsWith('notify.peer'),
      JSON.stringify(p),
    );
  }
});
