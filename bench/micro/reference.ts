/**
 * BigInt reference implementations of the ring operations, used only as the micro-benchmark
 * baselines (and checked against src/ring by test/bench/micro-reference.test.ts, so the baselines
 * compute the same thing as the code they are compared with). Never import this from src/.
 *
 * The reference works on its own native representation (an id is a bigint), so converting ids is
 * not part of what the benchmarks time; `toBig` / `fromBig` are there to prepare inputs and to test.
 */
import { ID_BITS, ID_BYTES, type Id } from '../../src/ring/id.js';

/** 2^160 - 1. */
export const MASK = (1n << BigInt(ID_BITS)) - 1n;
/** 2^160. */
export const RING = 1n << BigInt(ID_BITS);

/** A 20-byte big-endian id as an unsigned bigint. */
export function toBig(id: Id): bigint {
  let v = 0n;
  for (let i = 0; i < ID_BYTES; i++) v = (v << 8n) | BigInt(id[i]!);
  return v;
}

/** The 20-byte big-endian id of an unsigned bigint in [0, 2^160). */
export function fromBig(v: bigint): Id {
  const out = new Uint8Array(ID_BYTES);
  for (let i = ID_BYTES - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** compareIds on bigints. */
export function bigCompare(a: bigint, b: bigint): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** between (open interval, clockwise, a == b: everything but a) on bigints. */
export function bigBetween(a: bigint, x: bigint, b: bigint): boolean {
  if (a < b) return a < x && x < b;
  if (a > b) return a < x || x < b;
  return x !== a;
}

/** betweenRightIncl ((a, b], a == b: the whole circle) on bigints. */
export function bigBetweenRightIncl(a: bigint, x: bigint, b: bigint): boolean {
  if (a < b) return a < x && x <= b;
  if (a > b) return a < x || x <= b;
  return true;
}

/** addPowerOfTwo: (id + 2^i) mod 2^160. */
export function bigAddPowerOfTwo(id: bigint, i: number): bigint {
  return (id + (1n << BigInt(i))) & MASK;
}

/** A finger as the reference stores it: the id as a bigint. */
export interface BigPeer {
  id: bigint;
}

/**
 * The finger in (self, key) closest to key, or null: what src/chord/lookup.ts `closestPreceding`
 * returns first when given the fingers alone (no successor list). Same scan as the real code (from
 * finger 159 down, each run of the same object tested once), with "closest to key" measured as the
 * largest clockwise distance from self.
 */
export function bigClosestPrecedingFinger(self: bigint, key: bigint, fingers: readonly (BigPeer | null)[]): BigPeer | null {
  const keyDist = key === self ? RING : (key - self) & MASK;
  let best: BigPeer | null = null;
  let bestDist = 0n;
  let prev: BigPeer | null = null;
  for (let i = fingers.length - 1; i >= 0; i--) {
    const f = fingers[i];
    if (!f || f === prev) continue;
    prev = f;
    const d = (f.id - self) & MASK;
    if (d !== 0n && d < keyDist && d > bestDist) {
      best = f;
      bestDist = d;
    }
  }
  return best;
}
