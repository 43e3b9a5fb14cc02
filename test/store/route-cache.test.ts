/**
 * The route cache end to end over the simulator: a warm entry peer sends gets straight to the
 * owner (no routing messages), and after joins, leaves and crashes its stale entries never give a
 * wrong answer: the old owner refuses, the entry peer routes afresh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectReply } from '../../src/protocol/messages.js';
import { keyId } from '../../src/ring/hash.js';
import { compareIds, idEquals } from '../../src/ring/id.js';
import { enc, dec, makeSimRing, putMany, names, settle, SUCCESSORS, type SimRing } from './sim-ring-helpers.js';
import type { SimPeer } from '../../src/sim/sim-peer.js';

const sent = (ring: SimRing, type: string): number => ring.network.sent.get(type) ?? 0;

/** The live peer that owns `key`: the first at or after its id. */
function trueOwner(ring: SimRing, key: string): SimPeer {
  const live = ring.live();
  const id = keyId(key);
  return live.find((p) => compareIds(p.chord.self.id, id) >= 0) ?? live[0]!;
}

async function getAll(entry: SimPeer, keys: string[], routeCache: boolean): Promise<{ hops: number }> {
  let hops = 0;
  for (const k of keys) {
    const res = expectReply(await entry.handler({ type: 'get', key: enc.encode(k), noRouteCache: !routeCache }), 'getReply');
    assert.equal(res.found, true, `${k} found`);
    assert.equal(dec.decode(res.value), `v:${k}`);
    hops += res.hops;
  }
  return { hops };
}

test('a warm route cache sends gets straight to the owner; turned off per request, gets route again', async (t) => {
  const ring = await makeSimRing(t, 16, 3);
  const acked = await putMany(ring, names('k', 300));
  const keys = [...acked.keys()];
  const entry = ring.peers[0]!;

  const coldSteps = sent(ring, 'findSuccessor');
  await getAll(entry, keys, true); // warms the cache
  const coldCost = sent(ring, 'findSuccessor') - coldSteps;
  assert.ok(coldCost > 0, 'the first pass routes');
  assert.ok(entry.chord.routeCacheSize() > 0);

  const before = sent(ring, 'findSuccessor');
  const warm = await getAll(entry, keys, true);
  assert.equal(sent(ring, 'findSuccessor') - before, 0, 'a warm cache needs no routing step');
  assert.equal(warm.hops, 0);

  const beforeOff = sent(ring, 'findSuccessor');
  const off = await getAll(entry, keys, false);
  assert.ok(sent(ring, 'findSuccessor') - beforeOff > 0 && off.hops > 0, 'noRouteCache routes every request');

  // Lookups through the cache: one confirming step at the cached owner, and the right owner.
  for (const k of keys.slice(0, 50)) {
    const res = expectReply(await entry.handler({ type: 'lookup', keyId: keyId(k) }), 'lookupReply');
    assert.ok(idEquals(res.owner.id, trueOwner(ring, k).chord.self.id), `owner of ${k}`);
    assert.ok(res.hops <= 1, `cached lookup of ${k} took ${res.hops} hops`);
  }
});

test('stale cache entries after joins, leaves and crashes cost a round trip, never a wrong answer', async (t) => {
  const ring = await makeSimRing(t, 14, 5);
  const acked = await putMany(ring, names('s', 300));
  const keys = [...acked.keys()];
  const entry = ring.peers[0]!;
  await getAll(entry, keys, true);
  const warmSize = entry.chord.routeCacheSize();
  assert.ok(warmSize >= 5, `cache holds ${warmSize} ranges`);

  // Joins split cached ranges; a leave and two crashes remove cached owners.
  for (let i = 0; i < 4; i++) await ring.addPeer(`sim-new-${i}:4000`, ring.peers[1]!.addr);
  await ring.converge();
  const others = ring.live().filter((p) => p !== entry);
  const leaver = others[2]!;
  await leaver.store.handOff();
  await leaver.chord.leave();
  leaver.stop();
  ring.gone.add(leaver.addr);
  for (const p of [others[6]!, others[10]!]) {
    p.crash();
    ring.gone.add(p.addr);
  }
  await settle(ring, 3000);

  const stale = keys.filter((k) => {
    const cached = entry.chord.cachedRoute(keyId(k));
    return cached !== undefined && !idEquals(cached.owner.id, trueOwner(ring, k).chord.self.id);
  });
  // (Finger maintenance refreshes most ranges for free; the seed leaves some stale.)
  assert.ok(stale.length > 0, 'the changes left stale entries in the cache');
  const stepsBefore = sent(ring, 'findSuccessor');
  await getAll(entry, keys, true);
  assert.ok(sent(ring, 'findSuccessor') - stepsBefore > 0, 'stale entries were routed around');
  for (const k of stale) {
    const cached = entry.chord.cachedRoute(keyId(k));
    assert.ok(cached === undefined || idEquals(cached.owner.id, trueOwner(ring, k).chord.self.id), `the stale entry for ${k} was replaced`);
  }
  for (const k of keys) {
    const res = expectReply(await entry.handler({ type: 'lookup', keyId: keyId(k) }), 'lookupReply');
    assert.ok(idEquals(res.owner.id, trueOwner(ring, k).chord.self.id), `lookup of ${k} through a stale cache names the true owner`);
  }
  // Writes through the (refreshed) cache land at the true owner: read back without the cache.
  for (const k of keys.slice(0, 100)) {
    const put = expectReply(await entry.handler({ type: 'put', key: enc.encode(k), value: enc.encode(`w:${k}`) }), 'putReply');
    assert.ok(put.copies >= 2);
    const owner = trueOwner(ring, k);
    assert.equal(dec.decode(owner.store.localRecord(enc.encode(k))?.value ?? new Uint8Array()), `w:${k}`, `${k} written at its owner`);
    const other = ring.live().find((p) => p !== entry)!;
    const got = expectReply(await other.handler({ type: 'get', key: enc.encode(k), noRouteCache: true }), 'getReply');
    assert.equal(dec.decode(got.value), `w:${k}`);
  }
});

test("one routed get teaches the entry peer the owner's range and its followers' ranges", async (t) => {
  const ring = await makeSimRing(t, 16, 11);
  const entry = ring.peers[0]!;
  const sorted = [...ring.live()].sort((a, b) => compareIds(a.chord.self.id, b.chord.self.id));
  const next = (p: SimPeer): SimPeer => sorted[(sorted.indexOf(p) + 1) % sorted.length]!;
  const local = (p: SimPeer): boolean => p === entry || entry.chord.successors.some((s) => s.addr === p.addr);
  const candidates = names('f', 400);
  // A key routed for (its owner is not the entry or one of the entry's successors), and a key owned
  // by that owner's next peer, neither of whose ranges the entry has cached yet.
  let pair: [string, string] | undefined;
  for (const k of candidates) {
    const owner = trueOwner(ring, k);
    const follower = next(owner);
    if (local(owner) || local(follower) || entry.chord.cachedRoute(keyId(k))) continue;
    const k2 = candidates.find((c) => trueOwner(ring, c) === follower && !entry.chord.cachedRoute(keyId(c)));
    if (k2 !== undefined) {
      pair = [k, k2];
      break;
    }
  }
  assert.ok(pair, 'the ring has such a pair of keys');
  const [k, k2] = pair;
  await putMany(ring, [k, k2]);
  await getAll(entry, [k], true);

  const learned = entry.chord.cachedRoute(keyId(k2));
  assert.ok(learned, `the range of ${k2} was learned from the answer about ${k}`);
  assert.ok(idEquals(learned.owner.id, trueOwner(ring, k2).chord.self.id));
  const routing = (): number => sent(ring, 'findSuccessor') + sent(ring, 'routeLookup');
  const before = routing();
  const { hops } = await getAll(entry, [k2], true);
  assert.equal(hops, 0, 'the get went straight to the owner');
  assert.equal(routing() - before, 0, 'no routing message was sent for it');
});

test("a recursive get's answer teaches the ranges of the owner's whole successor list", async (t) => {
  const ring = await makeSimRing(t, 16, 12, { oneWay: true });
  const entry = ring.peers[0]!;
  const sorted = ring.live();
  const after = (p: SimPeer, k: number): SimPeer => sorted[(sorted.indexOf(p) + k) % sorted.length]!;
  const near = (p: SimPeer): boolean => p === entry || entry.chord.successors.some((s) => s.addr === p.addr);
  // A key whose owner and its SUCCESSORS followers are all routed for and not cached yet.
  const k = names('w', 400).find((c) => {
    const owner = trueOwner(ring, c);
    return Array.from({ length: SUCCESSORS + 1 }, (_, i) => after(owner, i)).every((p) => !near(p) && !entry.chord.cachedRoute(p.chord.self.id));
  });
  assert.ok(k !== undefined, 'the ring has such a key');
  await putMany(ring, [k]);
  const routed = sent(ring, 'routeLookup');
  await getAll(entry, [k], true);
  assert.ok(sent(ring, 'routeLookup') > routed, 'the get was routed recursively');

  const owner = trueOwner(ring, k);
  for (let i = 0; i <= SUCCESSORS; i++) {
    const p = after(owner, i);
    const learned = entry.chord.cachedRoute(p.chord.self.id);
    assert.ok(learned && idEquals(learned.owner.id, p.chord.self.id), `the range of the owner's peer +${i} (${p.addr}) was learned`);
  }
});

test('requests that opt out of the cache (noRouteCache) leave it as it was; the same requests with it teach it', async (t) => {
  for (const oneWay of [true, false]) {
    const ring = await makeSimRing(t, 16, 13, { oneWay });
    const entry = ring.peers[0]!;
    const near = (p: SimPeer): boolean => p === entry || entry.chord.successors.some((s) => s.addr === p.addr);
    // Keys the entry peer has to route for and whose ranges it has not cached.
    const keys = names('o', 400).filter((k) => !near(trueOwner(ring, k)) && !entry.chord.cachedRoute(keyId(k))).slice(0, 40);
    assert.ok(keys.length >= 20, 'the ring has such keys');
    await putMany(ring, keys);
    const uncached = keys.filter((k) => !entry.chord.cachedRoute(keyId(k)));
    const size = entry.chord.routeCacheSize();

    const off = await getAll(entry, uncached, false);
    for (const k of uncached) {
      const res = expectReply(await entry.handler({ type: 'lookup', keyId: keyId(k), noRouteCache: true }), 'lookupReply');
      assert.ok(idEquals(res.owner.id, trueOwner(ring, k).chord.self.id), `owner of ${k}`);
    }
    assert.ok(off.hops > 0, 'they were routed');
    assert.equal(entry.chord.routeCacheSize(), size, `oneWay=${oneWay}: no range was learned`);
    assert.deepEqual(uncached.filter((k) => entry.chord.cachedRoute(keyId(k))), []);

    await getAll(entry, uncached, true);
    assert.ok(entry.chord.routeCacheSize() > size, `oneWay=${oneWay}: gets through the cache teach it`);
    assert.ok(uncached.every((k) => entry.chord.cachedRoute(keyId(k))), 'every range they routed for is cached');
  }
});
