/**
 * The quiet-ring backoff (ChordInit.quietBackoffMax): a ring where nothing changes stretches its
 * stabilize and checkPredecessor periods, and any change brings them back at once, so a quiet
 * ring costs a fraction of the maintenance messages and a changing one repairs as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareIds } from '../../src/ring/index.js';
import { makeRing, ringMismatch, roundsUntilConsistent, runRounds, type TestRing } from './ring-helpers.js';

const maintenance = (ring: TestRing): number =>
  (ring.network.sent.get('getState') ?? 0) + (ring.network.sent.get('ping') ?? 0) + (ring.network.sent.get('notify') ?? 0);

async function quietCost(backoff: number, t: Parameters<typeof makeRing>[1]): Promise<number> {
  const ring = await makeRing(16, t, { seed: 11, quietBackoffMax: backoff });
  await roundsUntilConsistent(ring, 60);
  await runRounds(ring.clock, 16, ring.periodMs); // let the backoff reach its maximum
  const before = maintenance(ring);
  await runRounds(ring.clock, 32, ring.periodMs);
  return maintenance(ring) - before;
}

test('a quiet ring sends a fraction of the maintenance messages of fixed periods', async (t) => {
  const fixed = await quietCost(1, t);
  const backedOff = await quietCost(8, t);
  t.diagnostic(`stabilize+checkPredecessor messages over 32 quiet periods of 16 peers: fixed ${fixed}, backed off ${backedOff}`);
  assert.ok(fixed >= 16 * 32 * 3 * 0.9, `fixed periods run every round (${fixed})`);
  assert.ok(backedOff * 4 <= fixed, `backed off: ${backedOff}, at most a quarter of ${fixed}`);
});

test('after a quiet spell a crash and a join still heal to the true ring', async (t) => {
  const ring = await makeRing(20, t, { seed: 12, quietBackoffMax: 8 });
  await roundsUntilConsistent(ring, 60);
  await runRounds(ring.clock, 16, ring.periodMs);
  const sorted = [...ring.live()].sort((a, b) => compareIds(a.self.id, b.self.id));
  ring.crash(sorted[7]!);
  ring.crash(sorted[8]!);
  // Detection waits for the crashed peers' predecessor's next, backed-off round (at most 8
  // periods over the memory network, which reports no dropped connection); the repair that
  // follows runs at full speed.
  const healed = await roundsUntilConsistent(ring, 8 + 12, { fingers: false });
  t.diagnostic(`two adjacent crashes in a quiet ring healed in ${healed} rounds`);
  const joiner = ring.addPeer();
  await joiner.join(ring.peers[0]!.self.addr);
  joiner.start();
  const joined = await roundsUntilConsistent(ring, 8 + 12, { fingers: false });
  t.diagnostic(`a join into a quiet ring settled in ${joined} rounds`);
  assert.equal(ring.live().length, 19);
});

test('quiet fingers are checked with one request each, and joins still correct them', async (t) => {
  for (const oneWay of [true, false]) {
    const mode = oneWay ? 'recursive' : 'iterative';
    const ring = await makeRing(32, t, { seed: 13, oneWay });
    await roundsUntilConsistent(ring, 120);
    await runRounds(ring.clock, 24, ring.periodMs); // finger passes find nothing new and back off
    const sent = ring.network.sent;
    const count = (type: string): number => sent.get(type) ?? 0;
    const before = { routed: count('routeLookup'), steps: count('findSuccessor'), states: count('getState') };
    await runRounds(ring.clock, 32, ring.periodMs);
    const routed = count('routeLookup') - before.routed;
    const states = count('getState') - before.states;
    t.diagnostic(`${mode}: 32 quiet periods of 32 peers: ${routed} RouteLookup, ${count('findSuccessor') - before.steps} findSuccessor (confirming owners our own state names), ${states} getState`);
    // Without the check, the fingers our own state cannot settle were looked up on every pass:
    // 320 RouteLookup messages here.
    if (oneWay) assert.equal(routed, 0, 'no finger start is routed while every finger still owns its start');
    assert.ok(states > 32 * 4, `the fingers were checked (${states} getState, stabilize included)`);
    assert.equal(ringMismatch(ring.live(), ring.r), null, 'fingers still right');
    // Joins move some fingers to the newcomers: the finger's predecessor then no longer precedes
    // the start (once its stabilize has seen the newcomer), and the lookup that follows finds it.
    for (let j = 0; j < 4; j++) {
      const joiner = ring.addPeer();
      await joiner.join(ring.peers[0]!.self.addr);
      joiner.start();
    }
    const rounds = await roundsUntilConsistent(ring, 80);
    t.diagnostic(`${mode}: 4 joins into the quiet ring, fingers included, settled in ${rounds} rounds`);
  }
});
