import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { SHA1_BACKEND, idToHex, keyId, peerIdForAddr, sha1 } from '../../src/ring/index.js';

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

test('the direct hash-wasm module is in use and agrees with node:crypto on every length, including past its 16 KiB buffer', () => {
  assert.equal(SHA1_BACKEND, 'hash-wasm module, direct');
  for (const len of [0, 1, 55, 56, 63, 64, 65, 1000, 16383, 16384, 16385, 40000]) {
    const bytes = new Uint8Array(len).map((_, i) => (i * 31 + len) & 0xff);
    assert.equal(idToHex(sha1(bytes)), createHash('sha1').update(bytes).digest('hex'), `${len} bytes`);
    const str = 'é'.repeat(len); // 2 UTF-8 bytes each: long strings take the chunked path
    assert.equal(idToHex(keyId(str)), createHash('sha1').update(str, 'utf8').digest('hex'), `${len} two-byte characters`);
  }
});

test('with RINGWIRE_SHA1=hasher the public hash-wasm hasher gives the same ids', () => {
  const script = [
    "import { keyId, sha1, idToHex, SHA1_BACKEND } from './src/ring/index.js';",
    "console.log(JSON.stringify([SHA1_BACKEND, idToHex(keyId('abc')), idToHex(sha1(new Uint8Array(20000).fill(7))), idToHex(keyId('é'.repeat(9000)))]));",
  ].join('\n');
  const out = execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], {
    cwd: new URL('../../', import.meta.url), // dist/
    env: { ...process.env, RINGWIRE_SHA1: 'hasher' }, encoding: 'utf8',
  });
  const [backend, abc, long, str] = JSON.parse(out.trim().split('\n').pop()!) as string[];
  assert.match(backend!, /^hash-wasm hasher/);
  assert.equal(abc, createHash('sha1').update('abc').digest('hex'));
  assert.equal(long, createHash('sha1').update(new Uint8Array(20000).fill(7)).digest('hex'));
  assert.equal(str, createHash('sha1').update('é'.repeat(9000), 'utf8').digest('hex'));
});
