import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { idToHex, keyId, peerIdForAddr, sha1 } from '../../src/ring/index.js';

test('keyId is SHA-1 of the UTF-8 bytes, same as node:crypto', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), (s) => {
      const expected = createHash('sha1').update(s, 'utf8').digest('hex');
      assert.equal(idToHex(keyId(s)), expected);
      assert.equal(idToHex(keyId(new TextEncoder().encode(s))), expected);
    }),
    { numRuns: 2000, seed: 7 },
  );
});

test('a peer id is SHA-1 of host:port', () => {
  assert.equal(idToHex(peerIdForAddr('127.0.0.1:4001')), createHash('sha1').update('127.0.0.1:4001').digest('hex'));
  assert.equal(idToHex(sha1(new Uint8Array(0))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
});

test('results are independent arrays (the reused hasher does not alias its output)', () => {
  const a = keyId('a');
  const b = keyId('b');
  assert.notEqual(idToHex(a), idToHex(b));
  assert.equal(idToHex(a), createHash('sha1').update('a').digest('hex'));
});
