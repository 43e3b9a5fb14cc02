// Ring arithmetic against a BigInt reference: the reference lives only here, as DESIGN.md requires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ID_BYTES, MAX_ID, ZERO_ID, addPowerOfTwo, between, betweenRightIncl, compareIds, idEquals, idFromHex, idToHex,
  type Id,
} from '../../src/ring/index.js';
import { ErrorCode, hasCode } from '../../src/errors/errors.js';

const RING = 1n << 160n;
const RUNS = 10_000;
const SEED = 20261128;

const toBig = (id: Id): bigint => BigInt('0x' + idToHex(id));
const fromBig = (v: bigint): Id => idFromHex((((v % RING) + RING) % RING).toString(16).padStart(40, '0'));

function refBetween(a: bigint, x: bigint, b: bigint): boolean {
  if (a < b) return a < x && x < b;
  if (a > b) return a < x || x < b;
  return x !== a;
}
function refBetweenRightIncl(a: bigint, x: bigint, b: bigint): boolean {
  if (a < b) return a < x && x <= b;
  if (a > b) return a < x || x <= b;
  return true;
}

// Ids biased toward the edges: uniform ids almost never hit 0, 2^160-1 or equal endpoints.
const edgeIds = [ZERO_ID, MAX_ID, fromBig(1n), fromBig(RING - 2n), fromBig(1n << 159n), fromBig((1n << 159n) - 1n)];
const arbId = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES }) },
  { weight: 1, arbitrary: fc.constantFrom(...edgeIds) },
);
// Three ids where some are often equal, so equal-endpoint cases get real coverage.
const arbTriple = fc.tuple(arbId, arbId, arbId, fc.integer({ min: 0, max: 4 })).map(([a, x, b, mode]) => {
  if (mode === 1) return [a, x, a] as const; // equal ends
  if (mode === 2) return [a, a, b] as const; // x at the left end
  if (mode === 3) return [a, b, b] as const; // x at the right end
  return [a, x, b] as const;
});

test('hex round trip and validation', () => {
  const hex = '00ff10a0b1c2d3e4f5061728394a5b6c7d8e9fa0';
  assert.equal(idToHex(idFromHex(hex)), hex);
  assert.equal(idToHex(idFromHex(hex.toUpperCase())), hex);
  for (const bad of ['', 'xyz', hex.slice(1), hex + '0', 'g'.repeat(40)]) {
    assert.throws(() => idFromHex(bad), (e) => hasCode(e, ErrorCode.INVALID_ID));
  }
});

test('compareIds and idEquals agree with BigInt ordering', () => {
  fc.assert(
    fc.property(arbId, arbId, (a, b) => {
      const ref = toBig(a) < toBig(b) ? -1 : toBig(a) > toBig(b) ? 1 : 0;
      assert.equal(compareIds(a, b), ref);
      assert.equal(idEquals(a, b), ref === 0);
    }),
    { numRuns: RUNS, seed: SEED },
  );
});

test('between (open interval, wrap-around, equal ends) matches the reference', () => {
  fc.assert(
    fc.property(arbTriple, ([a, x, b]) => {
      assert.equal(between(a, x, b), refBetween(toBig(a), toBig(x), toBig(b)));
    }),
    { numRuns: RUNS, seed: SEED },
  );
});

test('betweenRightIncl (half-open interval) matches the reference', () => {
  fc.assert(
    fc.property(arbTriple, ([a, x, b]) => {
      assert.equal(betweenRightIncl(a, x, b), refBetweenRightIncl(toBig(a), toBig(x), toBig(b)));
    }),
    { numRuns: RUNS, seed: SEED },
  );
});

test('addPowerOfTwo matches (id + 2^i) mod 2^160 and leaves its input alone', () => {
  fc.assert(
    fc.property(arbId, fc.integer({ min: 0, max: 159 }), (id, i) => {
      const before = idToHex(id);
      const got = addPowerOfTwo(id, i);
      assert.equal(toBig(got), (toBig(id) + (1n << BigInt(i))) % RING);
      assert.equal(idToHex(id), before);
    }),
    { numRuns: RUNS, seed: SEED },
  );
});

test('edge cases: zero, max, full circle, wrap of the carry', () => {
  // 2^160 - 1 + 1 wraps to 0; + 2^159 twice is a full circle.
  assert.ok(idEquals(addPowerOfTwo(MAX_ID, 0), ZERO_ID));
  assert.ok(idEquals(addPowerOfTwo(addPowerOfTwo(ZERO_ID, 159), 159), ZERO_ID));
  // A lone peer: (a, a] is the whole ring, (a, a) everything but a.
  assert.equal(betweenRightIncl(MAX_ID, ZERO_ID, MAX_ID), true);
  assert.equal(betweenRightIncl(MAX_ID, MAX_ID, MAX_ID), true);
  assert.equal(between(MAX_ID, MAX_ID, MAX_ID), false);
  assert.equal(between(MAX_ID, ZERO_ID, MAX_ID), true);
  // Wrap: 0 lies in (max, 1) and in (max, 0]; max does not lie in (max, 0].
  assert.equal(between(MAX_ID, ZERO_ID, fromBig(1n)), true);
  assert.equal(betweenRightIncl(MAX_ID, ZERO_ID, ZERO_ID), true);
  assert.equal(betweenRightIncl(MAX_ID, MAX_ID, ZERO_ID), false);
  assert.throws(() => addPowerOfTwo(ZERO_ID, 160), (e) => hasCode(e, ErrorCode.INVALID_ID));
  assert.throws(() => addPowerOfTwo(ZERO_ID, -1), (e) => hasCode(e, ErrorCode.INVALID_ID));
});
