/**
 * End to end over the simulator: real ChordPeers and KvStores composed by createSimPeer, on a
 * MemoryNetwork driven by a ManualClock and a seeded random source, so every run is identical.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { MemoryNetwork } from '../../src/sim/memory-network.js';
import { seededRandom, randomInt } from '../../src/sim/random.js';
import { createSimPeer, type SimPeer } from '../../src/sim/sim-peer.js';
import { keyId } from '../../src/ring/hash.js';
import { compareIds, idEquals } from '../../src/ring/id.js';
import { expectReply } from '../../src/protocol/messages.js';
import type { Random } from '../../src/chord/clock.js';
import { ErrorCode, hasCode } from '../../src/errors/errors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const REPLICAS = 3;
const SUCCESSORS = 4;
const STEP_MS = 100;

interface SimRing {
  clock: ManualClock;
  network: MemoryNetwork;
  random: Random;
  peers: SimPeer[];
  /** Peers not crashed or gone, sorted by id (the ring a correct Chord must converge to). */
  live(): SimPeer[];
  addPeer(addr: string, bootstrap?: string): Promise<SimPeer>;
  /** Advances the clock until every live peer's successor and predecessor are right, or fails. */
  converge(deadlineMs?: number): Promise<void>;
  gone: Set<string>;
}

async function makeSimRing(t: TestContext, n: number, seed: number): Promise<SimRing> {
  const clock = new ManualClock(1_000_000);
  const network = new MemoryNetwork({ clock });
  const random = seededRandom(seed);
  const peers: SimPeer[] = [];
  const gone = new Set<string>();
  const ring: SimRing = {
    clock,
    network,
    random,
    peers,
    gone,
    live: () => peers.filter((p) => !gone.has(p.addr)).sort((a, b) => compareIds(a.chord.self.id, b.chord.self.id)),
    async addPeer(addr, bootstrap) {
      const peer = createSimPeer(network, { clock, random }, {
        addr,
        chord: { successorListLength: SUCCESSORS, stabilizeIntervalMs: 200, fixFingersIntervalMs: 200, checkPredecessorIntervalMs: 200 },
        store: { replicas: REPLICAS, repairIntervalMs: 1000 },
      });
      peers.push(peer);
      if (bootstrap === undefined) peer.chord.create();
      else await peer.chord.join(bootstrap);
      peer.chord.start();
      return peer;
    },
    async converge(deadlineMs = 60_000) {
      const end = clock.now() + deadlineMs;
      while (!consistent(ring.live())) {
        assert.ok(clock.now() < end, `ring did not converge within ${deadlineMs} ms of simulated time`);
        await clock.advance(STEP_MS);
      }
    },
  };
  t.after(() => {
    for (const p of peers) p.stop();
  });
  await ring.addPeer('sim-0:4000');
  for (let i = 1; i < n; i++) {
    await ring.addPeer(`sim-${i}:4000`, ring.peers[randomInt(random, ring.peers.length)]!.addr);
    await clock.advance(STEP_MS);
  }
  await ring.converge();
  return ring;
}

/** Every live peer's predecessor and whole successor list match its neighbours in id order. */
function consistent(sorted: SimPeer[]): boolean {
  const n = sorted.length;
  return sorted.every((p, i) => {
    const prev = sorted[(i - 1 + n) % n]!;
    const want = Array.from({ length: Math.min(SUCCESSORS, n - 1) }, (_, k) => sorted[(i + 1 + k) % n]!.chord.self);
    const have = p.chord.successors;
    const pred = p.chord.predecessor;
    return (
      pred !== null &&
      idEquals(pred.id, prev.chord.self.id) &&
      have.length >= want.length &&
      want.every((w, k) => idEquals(w.id, have[k]!.id))
    );
  });
}

/** The peers that should hold `key`: its owner and the next replicas-1 in the live ring. */
function replicaSet(sorted: SimPeer[], key: Uint8Array): SimPeer[] {
  const id = keyId(key);
  let i = sorted.findIndex((p) => compareIds(p.chord.self.id, id) >= 0);
  if (i < 0) i = 0;
  return Array.from({ length: Math.min(REPLICAS, sorted.length) }, (_, k) => sorted[(i + k) % sorted.length]!);
}

/** How many live peers hold `key` with at least `version`, and whether its whole replica set does. */
function copies(ring: SimRing, key: Uint8Array, version: number): { count: number; atTarget: boolean } {
  const holds = (p: SimPeer): boolean => {
    const r = p.store.localRecord(key);
    return r !== undefined && !r.deleted && r.version >= version;
  };
  const live = ring.live();
  return { count: live.filter(holds).length, atTarget: replicaSet(live, key).every(holds) };
}

interface Acked {
  version: number;
  value: string;
}

/** Writes `tag:key` under each key through random live peers; records what was acknowledged. */
async function putMany(ring: SimRing, keys: string[], tag = 'v', acked = new Map<string, Acked>()): Promise<Map<string, Acked>> {
  for (const key of keys) {
    const live = ring.live();
    const entry = live[randomInt(ring.random, live.length)]!;
    const value = `${tag}:${key}`;
    const res = await entry.store.put(enc.encode(key), enc.encode(value));
    assert.ok(res.copies >= 2, `${key} acknowledged with ${res.copies} copies`);
    acked.set(key, { version: res.version, value });
  }
  return acked;
}

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Lets maintenance run, then forces one repair round everywhere and lets it finish. */
async function settle(ring: SimRing, ms: number): Promise<void> {
  await ring.converge();
  await ring.clock.advance(ms);
  await Promise.all(ring.live().map((p) => p.store.repair()));
  await ring.clock.advance(STEP_MS);
}

async function assertAllReadable(acked: Map<string, Acked>, via: SimPeer[]): Promise<void> {
  let i = 0;
  for (const [key, { version, value }] of acked) {
    const entry = via[i++ % via.length]!;
    const got = await entry.store.get(enc.encode(key));
    assert.equal(got.found, true, `${key} readable through ${entry.addr}`);
    assert.equal(dec.decode(got.value), value, `${key} has its last acknowledged value`);
    assert.ok(got.version >= version);
  }
}

function assertAtTarget(ring: SimRing, acked: Map<string, Acked>): void {
  for (const [key, { version }] of acked) {
    const c = copies(ring, enc.encode(key), version);
    assert.ok(c.atTarget, `${key} is on its owner and ${REPLICAS - 1} successors (${c.count} copies)`);
  }
}

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
  await assert.rejects(ring.live()[0]!.handler({ type: 'members' }), (err: unknown) => hasCode(err, ErrorCode.UNKNOWN_MESSAGE));
});
