/**
 * Concurrent joins: every peer joins through peer 0 at the same instant, while peer 0 is still
 * alone, so all of them start with peer 0 as their successor. Stabilize, rectify and fixFingers
 * must sort the ring out (successor lists, predecessors and all 160 fingers equal to the true
 * ring) within a stated number of rounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRing, ringMismatch, roundsUntilConsistent } from './ring-helpers.js';

/**
 * Rounds (periods of all three steps) allowed for n peers joining at once. Untangling the star
 * every concurrent join starts from costs about n/3 rounds: measured at n = 64 over seeds 1..10,
 * 20 to 26 rounds (26 for seed 1); at 32: 14; at 16: 10; at 8: 6. The bound leaves a margin.
 */
function maxRounds(n: number): number {
  return Math.ceil(n / 2) + 8;
}

for (const n of [1, 2, 3, 5, 8, 16, 32, 64]) {
  test(`${n} peers joining concurrently converge to the true ring within ${maxRounds(n)} rounds`, async (t) => {
    const ring = await makeRing(n, t);
    const rounds = await roundsUntilConsistent(ring, maxRounds(n));
    t.diagnostic(`n=${n}: consistent after ${rounds} rounds`);
    // A converged ring does not drift.
    await ring.clock.advance(3 * ring.periodMs);
    assert.equal(ringMismatch(ring.live(), ring.r), null);
  });
}

test('joining one at a time converges too, and a late joiner is absorbed', async (t) => {
  const ring = await makeRing(12, t, { join: 'sequential', seed: 7 });
  await roundsUntilConsistent(ring, maxRounds(12));
  const late = ring.addPeer();
  await late.join(ring.peers[3]!.self.addr);
  late.start();
  assert.equal(late.status, 'joined');
  assert.equal(late.predecessor, null, 'the predecessor starts unknown');
  const rounds = await roundsUntilConsistent(ring, 10);
  t.diagnostic(`late joiner absorbed after ${rounds} rounds`);
});
