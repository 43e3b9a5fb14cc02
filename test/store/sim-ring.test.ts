/**
 * End to end over the simulator: real ChordPeers and KvStores composed by createSimPeer, on a
 * MemoryNetwork driven by a ManualClock and a seeded random source, so every run is identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectReply } from '../../src/protocol/messages.js';
import { ErrorCode, hasCode } from '../../src/errors/errors.js';
import { STEP_MS, enc, dec, makeSimRing, putMany, names, settle, assertAllReadable, assertAtTarget, copies, replicaSet } from './sim-ring-helpers.js';

test('12 peers: 1000 keys through random peers, readable everywhere; crashes are repaired', async (t) => {
  const ring = await makeSimRing(t, 12, 7);
  const acked = await putMany(ring, names('key', 1000));
  for (const [key, { version }] of acked) assert.ok(copies(ring, enc.encode(key), version).count >= 2);
  assertAtTarget(ring, acked);

  // every peer reads a different tenth of the keys; one peer reads them all
  const keys = [...acked.keys()];
  for (const [i, p] of ring.peers.entries()) {
    for (let j = i; j < keys.length; j += 10) {
      const got = await p.store.get(enc.encode(keys[j]!));
      assert.ok(got.found && dec.decode(got.value) === `v:${keys[j]}`, `${keys[j]} through ${p.addr}`);
    }
  }
  await assertAllReadable(acked, [ring.peers[0]!]);

  // getInfo agrees: each key owned exactly once
  let owned = 0;
  for (const p of ring.peers) {
    const info = expectReply(await p.handler({ type: 'getInfo' }), 'info');
    owned += info.keys;
    assert.ok(info.stored >= info.keys);
  }
  assert.equal(owned, acked.size);

  // crash two non-adjacent peers and one adjacent pair (never more than replicas-1 in a row)
  const sorted = ring.live();
  for (const idx of [1, 5, 8, 9]) {
    sorted[idx]!.crash();
    ring.gone.add(sorted[idx]!.addr);
  }
  await settle(ring, 3000);
  await assertAllReadable(acked, ring.live());
  assertAtTarget(ring, acked);
});

test('graceful leave loses no key; a join moves keys to the newcomer', async (t) => {
  const ring = await makeSimRing(t, 10, 11);
  const acked = await putMany(ring, names('move', 300));

  for (const leaver of [ring.live()[3]!, ring.live()[4]!]) {
    await leaver.store.handOff();
    await leaver.chord.leave();
    leaver.stop();
    ring.gone.add(leaver.addr);
    await ring.converge();
  }
  await settle(ring, 2000);
  await assertAllReadable(acked, ring.live());
  assertAtTarget(ring, acked);

  // overwrite keys while the newcomer joins and ownership moves: no read may go back in time
  const newcomer = await ring.addPeer('sim-new:4000', ring.live()[0]!.addr);
  const keys = [...acked.keys()];
  for (let round = 0; round < 20; round++) {
    await putMany(ring, keys.slice(round * 15, round * 15 + 15), `r${round}`, acked);
    await ring.clock.advance(STEP_MS);
    await assertAllReadable(acked, ring.live());
  }
  await settle(ring, 2000);
  assert.ok(newcomer.store.ownedKeyCount() > 0, 'the newcomer owns keys');
  const mine = [...acked.keys()].filter((k) => replicaSet(ring.live(), enc.encode(k))[0] === newcomer);
  assert.equal(newcomer.store.ownedKeyCount(), mine.length, 'it holds every key it owns');
  await assertAllReadable(acked, [newcomer, ...ring.live()]);
  assertAtTarget(ring, acked);
});

test('delete then get is not found everywhere, and the tombstone beats an older replica', async (t) => {
  const ring = await makeSimRing(t, 8, 3);
  const key = enc.encode('doomed');
  const live = ring.live();
  const put = await live[0]!.store.put(key, enc.encode('here'));
  await ring.clock.advance(10);
  const del = await live[5]!.store.delete(key);
  assert.equal(del.found, true);
  for (const p of live) assert.equal((await p.store.get(key)).found, false, `not found through ${p.addr}`);

  // an older copy sneaks back onto a replica (say, a late repair from a partitioned peer)
  const [owner, replica] = replicaSet(live, key);
  await ring.network.transport().request(replica!.addr, {
    type: 'replicate',
    records: [{ key, value: enc.encode('here'), version: put.version, deleted: false }],
  });
  assert.equal(replica!.store.localRecord(key)?.deleted, true, 'the replica kept the tombstone');
  // even with the owner gone, the replicas answer not found
  owner!.crash();
  ring.gone.add(owner!.addr);
  for (const p of ring.live()) assert.equal((await p.store.get(key)).found, false);
  await settle(ring, 2000);
  for (const p of ring.live()) assert.equal((await p.store.get(key)).found, false);
  assert.equal((await ring.live()[2]!.store.delete(key)).found, false);
  await assert.rejects(async () => ring.live()[0]!.handler({ type: 'members' }), (err: unknown) => hasCode(err, ErrorCode.UNKNOWN_MESSAGE));
});
