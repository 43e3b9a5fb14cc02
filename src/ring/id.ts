/**
 * 160-bit identifiers on the Chord ring, without BigInt.
 *
 * An id is a 20-byte big-endian Uint8Array: byte 0 is the most significant. Comparing ids is a
 * byte-wise comparison, and every interval test is built from at most two comparisons, so the hot
 * path never allocates. Only `addPowerOfTwo` and the parsing helpers return a new array.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';

/** An identifier on the ring: exactly ID_BYTES bytes, big-endian. Treat it as immutable. */
export type Id = Uint8Array;

/** Bytes in an id (SHA-1 output size). */
export const ID_BYTES = 20;
/** Bits in an id: the ring has 2^ID_BITS points. */
export const ID_BITS = 160;

const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const HEX_SCRATCH = new Uint8Array(2 * ID_BYTES);
const ASCII = new TextDecoder();

/**
 * 40 lowercase hex digits, the one text form of an id (JSON, logs, CLI). Decoded from ASCII codes
 * in one step: a string built by `+=` is a chain of 20 rope nodes, and a cluster's snapshot of
 * 1,024 peers' fingers made 164,000 of them per worker, and half of the snapshot's time went to
 * the garbage collector.
 */
export function idToHex(id: Id): string {
  for (let i = 0; i < ID_BYTES; i++) {
    const b = id[i]!;
    HEX_SCRATCH[2 * i] = HEX_CODES[b >> 4]!;
    HEX_SCRATCH[2 * i + 1] = HEX_CODES[b & 15]!;
  }
  return ASCII.decode(HEX_SCRATCH);
}

/** Parses 40 hex digits (either case). Throws INVALID_ID naming the problem otherwise. */
export function idFromHex(hex: string): Id {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{40}$/.test(hex)) {
    throw new RingwireError(ErrorCode.INVALID_ID, `an id must be 40 hex digits, got ${JSON.stringify(String(hex).slice(0, 64))}`);
  }
  const id = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) id[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return id;
}

/** True when `value` is a Uint8Array of exactly ID_BYTES bytes (checked on everything off the wire). */
export function isId(value: unknown): value is Id {
  return value instanceof Uint8Array && value.length === ID_BYTES;
}

/** Throws INVALID_ID unless `value` is a 20-byte id; `what` names the field in the message. */
export function assertId(value: unknown, what: string): asserts value is Id {
  if (!isId(value)) {
    const len = value instanceof Uint8Array ? value.length : -1;
    throw new RingwireError(ErrorCode.INVALID_ID, `${what} must be a ${ID_BYTES}-byte id (got ${len < 0 ? typeof value : `${len} bytes`})`);
  }
}

/** -1, 0 or 1 as a is below, equal to or above b as unsigned 160-bit integers. */
export function compareIds(a: Id, b: Id): -1 | 0 | 1 {
  // Independent ids (keys, peers) differ in their first byte 255 times in 256: decide that case
  // before entering the loop.
  const a0 = a[0]!;
  const b0 = b[0]!;
  if (a0 !== b0) return a0 < b0 ? -1 : 1;
  // Otherwise 32 bits at a time (5 words): fewer branches, and the exit branch mispredicts once
  // per compare instead of once per byte position. Built with * and | so values stay unsigned.
  for (let i = 0; i < ID_BYTES; i += 4) {
    const x = a[i]! * 0x1000000 + ((a[i + 1]! << 16) | (a[i + 2]! << 8) | a[i + 3]!);
    const y = b[i]! * 0x1000000 + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The first 4 bytes of an id as an unsigned number: the id's position on the ring in units of
 * 2^128. Hot loops compare these numbers and read whole ids only when two of them are within one
 * unit (route-cache.ts, lookup.ts closestPreceding).
 */
export function idTop32(id: Id): number {
  return id[0]! * 0x1000000 + ((id[1]! << 16) | (id[2]! << 8) | id[3]!);
}

/** a == b. */
export function idEquals(a: Id, b: Id): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * x in the open interval (a, b), walking clockwise from a, with wrap-around.
 * When a == b the interval is the whole circle except a itself (Chord's convention for a
 * one-peer ring: every other id lies strictly between a peer and itself).
 */
export function between(a: Id, x: Id, b: Id): boolean {
  const ab = compareIds(a, b);
  if (ab < 0) return compareIds(a, x) < 0 && compareIds(x, b) < 0;
  if (ab > 0) return compareIds(a, x) < 0 || compareIds(x, b) < 0;
  return compareIds(x, a) !== 0;
}

/**
 * x in the half-open interval (a, b], clockwise with wrap-around. When a == b it is the whole
 * circle: a lone peer owns every key.
 */
export function betweenRightIncl(a: Id, x: Id, b: Id): boolean {
  const ab = compareIds(a, b);
  if (ab < 0) return compareIds(a, x) < 0 && compareIds(x, b) <= 0;
  if (ab > 0) return compareIds(a, x) < 0 || compareIds(x, b) <= 0;
  return true;
}

/** (id + 2^i) mod 2^160, for 0 <= i < 160: the start of finger i. */
export function addPowerOfTwo(id: Id, i: number): Id {
  if (!Number.isInteger(i) || i < 0 || i >= ID_BITS) {
    throw new RingwireError(ErrorCode.INVALID_ID, `power of two must be an integer in [0, ${ID_BITS}), got ${i}`);
  }
  // The typed-array copy constructor copies in one go; Uint8Array.from goes through the iterator
  // protocol (about 2x slower). Not id.slice(): on a Buffer (ids decoded off the wire) it is a view.
  const out = new Uint8Array(id);
  let pos = ID_BYTES - 1 - (i >> 3);
  let carry = 1 << (i & 7);
  while (carry !== 0 && pos >= 0) {
    const sum = out[pos]! + carry;
    out[pos] = sum & 0xff;
    carry = sum >> 8;
    pos--;
  }
  return out;
}

/** The id 0 and the id 2^160 - 1 (edges of the ring, handy in tests and scans). */
export const ZERO_ID: Id = new Uint8Array(ID_BYTES);
export const MAX_ID: Id = new Uint8Array(ID_BYTES).fill(0xff);

/**
 * Clockwise distance from a to b as a float (only approximately: 2^160 does not fit a double).
 * Used for statistics and plotting positions, never for routing decisions.
 */
export function ringFraction(id: Id): number {
  let v = 0;
  for (let i = 0; i < 8; i++) v = v * 256 + id[i]!;
  return v / 2 ** 64;
}

/**
 * Index in `sorted` (ascending ids) of successor(key): the first entry whose id is >= key,
 * wrapping to 0 past the largest. Binary search; `sorted` must not be empty.
 */
export function successorIndex(sorted: readonly { id: Id }[], key: Id): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareIds(sorted[mid]!.id, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo === sorted.length ? 0 : lo;
}
