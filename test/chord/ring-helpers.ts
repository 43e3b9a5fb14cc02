/**
 * Test helpers for whole rings of ChordPeers on the in-memory network and a manual clock: build a
 * ring, compute what a correct ring looks like from the sorted live membership, compare, and
 * advance time round by round. Deterministic: the same seed gives the same run.
 */
import type { TestContext } from 'node:test';
import { ChordPeer } from '../../src/chord/peer.js';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { ID_BITS, addPowerOfTwo, compareIds, idEquals, idToHex, peerIdForAddr, successorIndex, type Id } from '../../src/ring/index.js';
import type { PeerRef } from '../../src/protocol/messages.js';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { MemoryNetwork } from '../../src/sim/memory-network.js';
import { seededRandom } from '../../src/sim/random.js';
import type { Random } from '../../src/chord/clock.js';

export interface RingOptions {
  /** Successor list length. @default 8 */
  r?: number;
  /** Seed of the random source handed to the peers and the test. @default 1 */
  seed?: number;
  /** Period of all three maintenance steps. @default 1000 */
  periodMs?: number;
  /** @default 8 */
  fingersPerRound?: number;
  /** Start the periodic steps once joined. @default true */
  start?: boolean;
  /** One-way message delay; a function draws one per message. @default 0 */
  latencyMs?: number | (() => number);
  /** All joins through peer 0 at the same time, or one after the other. @default 'concurrent' */
  join?: 'concurrent' | 'sequential';
  /** The network carries one-way messages, so lookups go recursive first. @default false */
  oneWay?: boolean;
  /** Most the quiet-ring backoff stretches stabilize (ChordInit.quietBackoffMax). @default 8 */
  quietBackoffMax?: number;
}

export interface TestRing {
  clock: ManualClock;
  network: MemoryNetwork;
  random: Random;
  r: number;
  periodMs: number;
  /** Every peer built, in creation order (including crashed and departed ones). */
  peers: ChordPeer[];
  /** Peers still in the ring (status joined). */
  live(): ChordPeer[];
  /** A new peer listening on the network, not yet joined. */
  addPeer(): ChordPeer;
  /** Crash: the address stops answering and the peer's timers stop. */
  crash(peer: ChordPeer): void;
}

/**
 * Address of peer i on the memory network; its id is SHA-1 of it, as in production, so the seed
 * (part of the address) is what varies the ids' placement from one run to another.
 */
export function addrOf(i: number, seed = 1): string {
  return `10.${seed & 255}.${i >> 8}.${i & 255}:4000`;
}

/** Builds n peers: peer 0 creates the ring, the others join through it. Cleanup via t.after. */
export async function makeRing(n: number, t: TestContext, opts: RingOptions = {}): Promise<TestRing> {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock }, { latencyMs: opts.latencyMs ?? 0, oneWay: opts.oneWay ?? false });
  const random = seededRandom(opts.seed ?? 1);
  const r = opts.r ?? 8;
  const periodMs = opts.periodMs ?? 1000;
  const peers: ChordPeer[] = [];
  const addPeer = (): ChordPeer => {
    const addr = addrOf(peers.length, opts.seed ?? 1);
    const peer = new ChordPeer(
      { transport: network.transport(), clock, random },
      {
        id: peerIdForAddr(addr),
        addr,
        successorListLength: r,
        stabilizeIntervalMs: periodMs,
        fixFingersIntervalMs: periodMs,
        checkPredecessorIntervalMs: periodMs,
        fingersPerRound: opts.fingersPerRound ?? 8,
        ...(opts.quietBackoffMax !== undefined ? { quietBackoffMax: opts.quietBackoffMax } : {}),
      },
    );
    network.listen(addr, (req) => peer.handle(req) ?? Promise.reject(new RingwireError(ErrorCode.UNKNOWN_MESSAGE, req.type)));
    peers.push(peer);
    return peer;
  };
  const ring: TestRing = {
    clock,
    network,
    random,
    r,
    periodMs,
    peers,
    live: () => peers.filter((p) => p.status === 'joined'),
    addPeer,
    crash(peer) {
      network.crash(peer.self.addr);
      peer.stop();
    },
  };
  t.after(() => {
    for (const p of peers) p.stop();
  });
  for (let i = 0; i < n; i++) addPeer();
  peers[0]!.create();
  const bootstrap = peers[0]!.self.addr;
  if ((opts.join ?? 'concurrent') === 'concurrent') {
    await Promise.all(peers.slice(1).map((p) => p.join(bootstrap)));
  } else {
    for (const p of peers.slice(1)) await p.join(bootstrap);
  }
  if (opts.start ?? true) for (const p of peers) p.start();
  return ring;
}

/** What a correct ring says about one peer. */
export interface Expected {
  successors: PeerRef[];
  predecessor: PeerRef | null;
  fingers: PeerRef[];
}

/** successor(key) among peers sorted by id. */
export function trueSuccessor(sorted: readonly PeerRef[], key: Id): PeerRef {
  return sorted[successorIndex(sorted, key)]!;
}

/** Sorted refs of the given peers (ring order from id 0). */
export function sortedRefs(peers: readonly ChordPeer[]): PeerRef[] {
  return peers.map((p) => p.self).sort((a, b) => compareIds(a.id, b.id));
}

/**
 * The correct state of every peer of `peers` (taken as the whole live membership): the next
 * min(r, n-1) peers clockwise ([self] when alone), the previous peer (null when alone), and
 * finger i = successor(self + 2^i).
 */
export function trueRing(peers: readonly ChordPeer[], r: number): Map<ChordPeer, Expected> {
  const sorted = sortedRefs(peers);
  const n = sorted.length;
  const out = new Map<ChordPeer, Expected>();
  for (const peer of peers) {
    const k = sorted.findIndex((s) => idEquals(s.id, peer.self.id));
    const successors: PeerRef[] = [];
    for (let j = 1; j <= Math.min(r, n - 1); j++) successors.push(sorted[(k + j) % n]!);
    if (n === 1) successors.push(peer.self);
    const fingers: PeerRef[] = [];
    for (let i = 0; i < ID_BITS; i++) fingers.push(trueSuccessor(sorted, addPowerOfTwo(peer.self.id, i)));
    out.set(peer, { successors, predecessor: n === 1 ? null : sorted[(k - 1 + n) % n]!, fingers });
  }
  return out;
}

const short = (p: PeerRef | null | undefined): string => (p ? idToHex(p.id).slice(0, 6) : 'null');

/**
 * The first difference between the peers' state and the true ring of those peers, as text, or
 * null when every successor list, predecessor and (unless `fingers` is false) finger is right.
 */
export function ringMismatch(peers: readonly ChordPeer[], r: number, opts: { fingers?: boolean } = {}): string | null {
  const truth = trueRing(peers, r);
  for (const peer of peers) {
    const want = truth.get(peer)!;
    const got = peer.successors;
    if (got.length !== want.successors.length || got.some((p, i) => !idEquals(p.id, want.successors[i]!.id))) {
      return `${short(peer.self)} successors [${got.map(short).join(',')}], want [${want.successors.map(short).join(',')}]`;
    }
    const pred = peer.predecessor;
    if ((pred === null) !== (want.predecessor === null) || (pred && !idEquals(pred.id, want.predecessor!.id))) {
      return `${short(peer.self)} predecessor ${short(pred)}, want ${short(want.predecessor)}`;
    }
    if (opts.fingers ?? true) {
      for (let i = 0; i < ID_BITS; i++) {
        const f = peer.fingers[i];
        if (!f || !idEquals(f.id, want.fingers[i]!.id)) return `${short(peer.self)} finger ${i} ${short(f)}, want ${short(want.fingers[i])}`;
      }
    }
  }
  return null;
}

/** True when the peers form exactly the true ring of themselves (see ringMismatch). */
export function isConsistent(peers: readonly ChordPeer[], r: number, opts: { fingers?: boolean } = {}): boolean {
  return ringMismatch(peers, r, opts) === null;
}

/** Advances the clock by k periods, one at a time, so every periodic step runs k times. */
export async function runRounds(clock: ManualClock, k: number, periodMs: number): Promise<void> {
  for (let i = 0; i < k; i++) await clock.advance(periodMs);
}

/**
 * Runs rounds until the live peers are consistent, at most `maxRounds`; returns how many it took.
 * Throws with the last mismatch when the bound is exceeded, so a failure says what is wrong.
 */
export async function roundsUntilConsistent(ring: TestRing, maxRounds: number, opts: { fingers?: boolean } = {}): Promise<number> {
  for (let k = 0; ; k++) {
    const miss = ringMismatch(ring.live(), ring.r, opts);
    if (miss === null) return k;
    if (k >= maxRounds) throw new Error(`ring not consistent after ${maxRounds} rounds: ${miss}`);
    await ring.clock.advance(ring.periodMs);
  }
}
