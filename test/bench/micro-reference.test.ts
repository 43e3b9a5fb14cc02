// The micro-benchmark baselines (bench/micro/reference.ts, BigInt) must compute what src/ring and
// src/chord compute, or the ratios in bench/results/micro-latest.json compare unlike things.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ID_BITS, addPowerOfTwo, between, betweenRightIncl, compareIds, idEquals, type Id } from '../../src/ring/id.js';
import { closestPreceding } from '../../src/chord/lookup.js';
import type { PeerRef } from '../../src/protocol/messages.js';
import {
  bigAddPowerOfTwo, bigBetween, bigBetweenRightIncl, bigClosestPrecedingFinger, bigCompare, fromBig, toBig, type BigPeer,
} from '../../bench/micro/reference.js';
import { fingerFixture, nearbyId, prng, randomId } from '../../bench/micro/fixtures.js';

const RUNS = 500;

test('toBig and fromBig round-trip', () => {
  const rand = prng(1);
  for (let n = 0; n < RUNS; n++) {
    const a = nearbyId(rand, randomId(rand));
    assert.deepEqual(fromBig(toBig(a)), a);
  }
});

test('BigInt compare / between / betweenRightIncl agree with src/ring', () => {
  const rand = prng(2);
  for (let n = 0; n < RUNS; n++) {
    const a = randomId(rand);
    // Nearby ids hit equal ids, shared prefixes and the ring's edges; a == b covers the full circle.
    const x = n % 10 === 0 ? a : nearbyId(rand, a);
    const b = n % 7 === 0 ? a : nearbyId(rand, a);
    const [ba, bx, bb] = [toBig(a), toBig(x), toBig(b)];
    assert.equal(bigCompare(ba, bx), compareIds(a, x));
    assert.equal(bigCompare(bx, bb), compareIds(x, b));
    assert.equal(bigBetween(ba, bx, bb), between(a, x, b), `between ${ba} ${bx} ${bb}`);
    assert.equal(bigBetweenRightIncl(ba, bx, bb), betweenRightIncl(a, x, b), `betweenRightIncl ${ba} ${bx} ${bb}`);
  }
});

test('BigInt add 2^i agrees with addPowerOfTwo, including the wrap past 2^160', () => {
  const rand = prng(3);
  for (let n = 0; n < RUNS; n++) {
    const a = n % 25 === 0 ? new Uint8Array(20).fill(0xff) : randomId(rand);
    const i = n < ID_BITS ? n : Math.floor(rand() * ID_BITS);
    assert.deepEqual(fromBig(bigAddPowerOfTwo(toBig(a), i)), addPowerOfTwo(a, i));
  }
});

test('BigInt closest preceding finger agrees with closestPreceding over a full table and over its distinct runs', () => {
  const rand = prng(4);
  for (const n of [2, 16, 1024]) {
    const fx = fingerFixture(rand, n);
    const bigOf = new Map<PeerRef, BigPeer>();
    const bigFingers = fx.fingers.map((f) => {
      let b = bigOf.get(f);
      if (!b) bigOf.set(f, (b = { id: toBig(f.id) }));
      return b;
    });
    const keys: Id[] = [fx.self, ...fx.fingers.slice(0, 20).map((f) => f.id)];
    for (let k = 0; k < 200; k++) keys.push(nearbyId(rand, fx.self));
    // Also over the table's distinct runs, as the micro suite's "distinct runs" rows give it.
    const runs = fx.fingers.filter((f, i) => i === 0 || f !== fx.fingers[i - 1]);
    const bigRuns = runs.map((f) => bigOf.get(f)!);
    for (const key of keys) {
      for (const [fingers, big] of [[fx.fingers, bigFingers], [runs, bigRuns]] as const) {
        const ours = closestPreceding(fx.self, key, fingers, [], 1);
        const ref = bigClosestPrecedingFinger(toBig(fx.self), toBig(key), big);
        if (ref === null) assert.equal(ours.length, 0);
        else {
          assert.equal(ours.length, 1);
          assert.ok(idEquals(fromBig(ref.id), ours[0]!.id));
        }
      }
    }
  }
});
