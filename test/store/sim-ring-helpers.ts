/**
 * Shared by the simulator store tests: a ring of real ChordPeers and KvStores: real ChordPeers and KvStores composed by createSimPeer, on a
 * MemoryNetwork driven by a ManualClock and a seeded random source, so every run is identical.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { MemoryNetwork } from '../../src/sim/memory-network.js';
import { seededRandom, randomInt } from '../../src/sim/random.js';
import { createSimPeer, type SimPeer } from '../../src/sim/sim-peer.js';
import { keyId } from '../../src/ring/hash.js';
import { compareIds, idEquals } from '../../src/ring/id.js';
import type { Random } from '../../src/chord/clock.js';

export const enc = new TextEncoder();
export const dec = new TextDecoder();
export const REPLICAS = 3;
export const SUCCESSORS = 4;
export const STEP_MS = 100;

export interface SimRing {
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

export async function makeSimRing(t: TestContext, n: number, seed: number, opts: { routeCache?: boolean; oneWay?: boolean } = {}): Promise<SimRing> {
  const clock = new ManualClock(1_000_000);
  const network = new MemoryNetwork({ clock }, { oneWay: opts.oneWay === true });
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
        chord: { successorListLength: SUCCESSORS, stabilizeIntervalMs: 200, fixFingersIntervalMs: 200, checkPredecessorIntervalMs: 200, routeCache: opts.routeCache !== false },
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
export function consistent(sorted: SimPeer[]): boolean {
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
export function replicaSet(sorted: SimPeer[], key: Uint8Array): SimPeer[] {
  const id = keyId(key);
  let i = sorted.findIndex((p) => compareIds(p.chord.self.id, id) >= 0);
  if (i < 0) i = 0;
  return Array.from({ length: Math.min(REPLICAS, sorted.length) }, (_, k) => sorted[(i + k) % sorted.length]!);
}

/** How many live peers hold `key` with at least `version`, and whether its whole replica set does. */
export function copies(ring: SimRing, key: Uint8Array, version: number): { count: number; atTarget: boolean } {
  const holds = (p: SimPeer): boolean => {
    const r = p.store.localRecord(key);
    return r !== undefined && !r.deleted && r.version >= version;
  };
  const live = ring.live();
  return { count: live.filter(holds).length, atTarget: replicaSet(live, key).every(holds) };
}

export interface Acked {
  version: number;
  value: string;
}

/** Writes `tag:key` under each key through random live peers; records what was acknowledged. */
export async function putMany(ring: SimRing, keys: string[], tag = 'v', acked = new Map<string, Acked>()): Promise<Map<string, Acked>> {
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

export const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Lets maintenance run, then forces one repair round everywhere and lets it finish. */
export async function settle(ring: SimRing, ms: number): Promise<void> {
  await ring.converge();
  await ring.clock.advance(ms);
  await Promise.all(ring.live().map((p) => p.store.repair()));
  await ring.clock.advance(STEP_MS);
}

export async function assertAllReadable(acked: Map<string, Acked>, via: SimPeer[]): Promise<void> {
  let i = 0;
  for (const [key, { version, value }] of acked) {
    const entry = via[i++ % via.length]!;
    const got = await entry.store.get(enc.encode(key));
    assert.equal(got.found, true, `${key} readable through ${entry.addr}`);
    assert.equal(dec.decode(got.value), value, `${key} has its last acknowledged value`);
    assert.ok(got.version >= version);
  }
}

export function assertAtTarget(ring: SimRing, acked: Map<string, Acked>): void {
  for (const [key, { version }] of acked) {
    const c = copies(ring, enc.encode(key), version);
    assert.ok(c.atTarget, `${key} is on its owner and ${REPLICAS - 1} successors (${c.count} copies)`);
  }
}

