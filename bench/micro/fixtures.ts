/**
 * Deterministic inputs for the micro-benchmarks and their reference test: a seeded PRNG, random ids,
 * id pairs that share prefixes (so byte-wise comparisons do not always stop at byte 0), and a full
 * 160-entry finger table of one peer in a realistic ring.
 */
import { ID_BITS, ID_BYTES, addPowerOfTwo, compareIds, type Id } from '../../src/ring/id.js';
import type { PeerRef } from '../../src/protocol/messages.js';
import { seededRandom } from '../../src/sim/random.js';

/** The project's seeded PRNG (src/sim/random.ts), so bench inputs are reproducible from a seed. */
export const prng = seededRandom;

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export function randomId(rand: () => number): Id {
  return randomBytes(rand, ID_BYTES);
}

/**
 * An id sharing a random-length prefix (0..20 bytes) with `base`: equal ids, ids differing only in
 * the last byte and ids differing in the first byte all occur. Edge ids (0, 2^160-1) come up too.
 */
export function nearbyId(rand: () => number, base: Id): Id {
  const r = rand();
  if (r < 0.03) return new Uint8Array(ID_BYTES);
  if (r < 0.06) return new Uint8Array(ID_BYTES).fill(0xff);
  const shared = Math.floor(rand() * (ID_BYTES + 1));
  const out = randomId(rand);
  out.set(base.subarray(0, shared));
  return out;
}

/** A full finger table for one peer of an n-peer ring with random ids. */
export interface FingerFixture {
  self: Id;
  /** 160 entries, none null; consecutive fingers naming the same peer share one object. */
  fingers: PeerRef[];
  /** Distinct peers among the fingers (how many entries the scan actually tests). */
  distinct: number;
}

export function fingerFixture(rand: () => number, n: number): FingerFixture {
  const peers: PeerRef[] = [];
  for (let i = 0; i < n; i++) peers.push({ id: randomId(rand), addr: `10.0.${i >> 8}.${i & 255}:4000` });
  peers.sort((a, b) => compareIds(a.id, b.id));
  const self = peers[0]!.id;
  // successor(x): the first peer p with x in (p's predecessor, p], i.e. the first id >= x, wrapping.
  const successor = (x: Id): PeerRef => peers.find((p) => compareIds(p.id, x) >= 0) ?? peers[0]!;
  const fingers: PeerRef[] = [];
  for (let i = 0; i < ID_BITS; i++) fingers.push(successor(addPowerOfTwo(self, i)));
  return { self, fingers, distinct: new Set(fingers).size };
}
