/**
 * Seeded input generators for the wire fuzz test (test/wire/fuzz.test.ts): random valid messages of
 * every Envelope body type, mutations of encoded frames, random chunk splits, and a tiny reference
 * framer the FrameDecoder is checked against. Everything draws from one `Random`, so a case is
 * reproduced from its seed alone.
 */
import type { Random } from '../../src/chord/clock.js';
import { ErrorCode } from '../../src/errors/errors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import type { Message, PeerRef, StoredRecord } from '../../src/protocol/messages.js';
import { peerIdForAddr } from '../../src/ring/index.js';
import { randomInt, seededRandom } from '../../src/sim/random.js';
import { FRAME_HEADER_BYTES, encodeFrame, encodeMessage } from '../../src/wire/index.js';

/** Default seed (fixed, so CI runs the same cases); override with RINGWIRE_FUZZ_SEED. */
export const DEFAULT_FUZZ_SEED = 0x5eed_2026;

/** Decoder-level cases when RINGWIRE_FUZZ_ITERATIONS is unset. */
export const DEFAULT_FUZZ_ITERATIONS = 3000;

/** Reads a non-negative integer env var, or the fallback when unset/invalid. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** The PRNG of case `index` under `seed`: every case is reproducible on its own. */
export function caseRandom(seed: number, index: number): Random {
  return seededRandom((seed + Math.imul(index + 1, 0x9e37_79b9)) >>> 0);
}

export function randomBytes(r: Random, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = randomInt(r, 256);
  return b;
}

function pick<T>(r: Random, items: readonly T[]): T {
  return items[randomInt(r, items.length)]!;
}

function randomPeer(r: Random): PeerRef {
  const addr = `127.0.0.1:${1 + randomInt(r, 65535)}`;
  return { id: peerIdForAddr(addr), addr };
}

function peers(r: Random, max: number): PeerRef[] {
  return Array.from({ length: randomInt(r, max + 1) }, () => randomPeer(r));
}

function maybePeer(r: Random): PeerRef | null {
  return r() < 0.3 ? null : randomPeer(r);
}

function smallBytes(r: Random): Uint8Array {
  return randomBytes(r, randomInt(r, r() < 0.9 ? 24 : 300));
}

function uint(r: Random): number {
  return pick(r, [0, 1, randomInt(r, 1000), randomInt(r, 0xffff_ffff)]);
}

function record(r: Random): StoredRecord {
  return { key: smallBytes(r), value: smallBytes(r), version: r() < 0.5 ? Date.now() : uint(r), deleted: r() < 0.3 };
}

/** A random, valid message of each Envelope body type, by type. */
const MAKERS: Record<Message['type'], (r: Random) => Message> = {
  hello: (r) => ({ type: 'hello', version: PROTOCOL_VERSION, peer: maybePeer(r) }),
  helloAck: (r) => ({ type: 'helloAck', version: PROTOCOL_VERSION, peer: maybePeer(r) }),
  error: (r) => ({ type: 'error', code: pick(r, Object.values(ErrorCode)), message: `oops ${randomInt(r, 1e6)} ü` }),
  ping: () => ({ type: 'ping' }),
  pong: () => ({ type: 'pong' }),
  ack: () => ({ type: 'ack' }),
  getState: () => ({ type: 'getState' }),
  state: (r) => ({ type: 'state', self: randomPeer(r), predecessor: maybePeer(r), successors: peers(r, 8) }),
  notify: (r) => ({ type: 'notify', peer: randomPeer(r) }),
  findSuccessor: (r) => ({ type: 'findSuccessor', key: randomPeer(r).id }),
  findSuccessorReply: (r) => ({ type: 'findSuccessorReply', done: r() < 0.5, nodes: peers(r, 4) }),
  leave: (r) => ({ type: 'leave', peer: randomPeer(r), predecessor: maybePeer(r), successors: peers(r, 4) }),
  getInfo: () => ({ type: 'getInfo' }),
  info: (r) => ({
    type: 'info', self: randomPeer(r), predecessor: maybePeer(r), successors: peers(r, 3), fingers: peers(r, 5),
    keys: uint(r), stored: uint(r),
  }),
  lookup: (r) => ({ type: 'lookup', keyId: randomPeer(r).id }),
  lookupReply: (r) => ({ type: 'lookupReply', owner: randomPeer(r), hops: randomInt(r, 32), path: [randomPeer(r)] }),
  put: (r) => ({ type: 'put', key: smallBytes(r), value: smallBytes(r) }),
  putReply: (r) => ({ type: 'putReply', version: uint(r), copies: randomInt(r, 4), hops: randomInt(r, 32) }),
  get: (r) => ({ type: 'get', key: smallBytes(r) }),
  getReply: (r) => ({ type: 'getReply', found: r() < 0.5, value: smallBytes(r), version: uint(r), hops: randomInt(r, 32) }),
  delete: (r) => ({ type: 'delete', key: smallBytes(r) }),
  deleteReply: (r) => ({ type: 'deleteReply', found: r() < 0.5, version: uint(r), hops: randomInt(r, 32) }),
  ownerWrite: (r) => ({ type: 'ownerWrite', key: smallBytes(r), value: smallBytes(r), deleted: r() < 0.3 }),
  ownerWriteReply: (r) => ({ type: 'ownerWriteReply', version: uint(r), copies: randomInt(r, 4), existed: r() < 0.5 }),
  replicate: (r) => ({ type: 'replicate', records: Array.from({ length: randomInt(r, 4) }, () => record(r)) }),
  read: (r) => ({ type: 'read', key: smallBytes(r) }),
  readReply: (r) => ({ type: 'readReply', record: r() < 0.3 ? null : record(r) }),
  register: (r) => ({ type: 'register', peer: randomPeer(r) }),
  deregister: (r) => ({ type: 'deregister', peer: randomPeer(r) }),
  sample: (r) => ({ type: 'sample', count: uint(r) }),
  members: () => ({ type: 'members' }),
  peerList: (r) => ({ type: 'peerList', peers: peers(r, 6) }),
  successorsChanged: () => ({ type: 'successorsChanged' }),
  authProof: (r) => ({ type: 'authProof', proof: smallBytes(r) }),
  routeLookup: (r) => ({ type: 'routeLookup', key: randomPeer(r).id, origin: randomPeer(r).addr, token: uint(r), path: peers(r, 3) }),
  routeDone: (r) => ({ type: 'routeDone', token: uint(r), nodes: peers(r, 4), rangeStart: randomPeer(r).id, path: peers(r, 3) }),
};

/** Every message type the generators cover (the test checks it equals the codec's MESSAGE_TYPES). */
export const GENERATED_TYPES: readonly string[] = Object.keys(MAKERS);

export function randomMessage(r: Random, type?: Message['type']): Message {
  const t = type ?? pick(r, GENERATED_TYPES as readonly Message['type'][]);
  return MAKERS[t](r);
}

/** One valid frame (prefix + Envelope) of a random message. */
export function validFrame(r: Random, type?: Message['type']): Buffer {
  const reqId = pick(r, [0, 1, randomInt(r, 1 << 16), randomInt(r, 0xffff_ffff)]);
  return encodeFrame(encodeMessage(reqId, randomMessage(r, type)));
}

/** Names of the mutations, for failure messages. */
export type MutationKind = 'bitflip' | 'byte' | 'truncate' | 'insert' | 'delete' | 'prefix' | 'splice' | 'duplicate';

/**
 * Applies one random mutation to `input` (returns a new buffer). `prefix` rewrites a length prefix
 * at a frame boundary or anywhere (0, 1, just over the real size, huge, random).
 */
export function mutate(r: Random, input: Buffer, log?: MutationKind[]): Buffer {
  const kinds: MutationKind[] = ['bitflip', 'bitflip', 'byte', 'truncate', 'insert', 'delete', 'prefix', 'prefix', 'splice', 'duplicate'];
  const kind = pick(r, kinds);
  log?.push(kind);
  const n = input.length;
  const at = (extra = 0): number => randomInt(r, n + extra);
  switch (kind) {
    case 'bitflip': {
      if (n === 0) return Buffer.from([1 << randomInt(r, 8)]);
      const out = Buffer.from(input);
      const i = at();
      out[i] = out[i]! ^ (1 << randomInt(r, 8));
      return out;
    }
    case 'byte': {
      if (n === 0) return randomBytes(r, 1);
      const out = Buffer.from(input);
      out[at()] = pick(r, [0x00, 0xff, 0x7f, 0x80, randomInt(r, 256)]);
      return out;
    }
    case 'truncate':
      return Buffer.from(input.subarray(0, at()));
    case 'insert': {
      const i = at(1);
      return Buffer.concat([input.subarray(0, i), randomBytes(r, 1 + randomInt(r, 8)), input.subarray(i)]);
    }
    case 'delete': {
      if (n === 0) return Buffer.from(input);
      const i = at();
      return Buffer.concat([input.subarray(0, i), input.subarray(i + 1 + randomInt(r, Math.min(8, n - i)))]);
    }
    case 'prefix': {
      const out = Buffer.concat([input, n < FRAME_HEADER_BYTES ? Buffer.alloc(FRAME_HEADER_BYTES - n) : Buffer.alloc(0)]);
      const i = r() < 0.6 ? 0 : randomInt(r, out.length - FRAME_HEADER_BYTES + 1);
      const real = out.length - FRAME_HEADER_BYTES;
      const value = pick(r, [0, 1, real + 1, real + randomInt(r, 64), Math.max(0, real - 1), 0xffff_ffff, 0x7fff_ffff, 1 << 20, (1 << 20) + 1, randomInt(r, 0xffff_ffff)]);
      out.writeUInt32BE(value >>> 0, i);
      return out;
    }
    case 'splice': {
      const other = validFrame(r);
      const i = at(1);
      return Buffer.concat([input.subarray(0, i), other.subarray(randomInt(r, other.length))]);
    }
    case 'duplicate': {
      const i = at(1);
      const j = i + randomInt(r, n - i + 1);
      return Buffer.concat([input.subarray(0, j), input.subarray(i, j), input.subarray(j)]);
    }
  }
}

/** Splits `data` into random pieces (single bytes, small, large; some empty). */
export function randomChunks(r: Random, data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const size = pick(r, [0, 1, 1 + randomInt(r, 4), 1 + randomInt(r, 32), 1 + randomInt(r, 1024), data.length]);
    out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** What a correct framer makes of a whole stream: its frames, then an error code or the bytes left. */
export interface ReferenceFraming {
  frames: Buffer[];
  error: ErrorCode | null;
  /** Bytes of an incomplete trailing frame (0 when the stream ends on a boundary or failed). */
  leftover: number;
  /** Payload length the incomplete trailing frame announced; -1 when its prefix is incomplete too. */
  expected: number;
}

/** The framing rules of src/wire/frame.ts, written the slow obvious way, as the oracle. */
export function referenceFraming(data: Buffer, maxFrameBytes: number): ReferenceFraming {
  const frames: Buffer[] = [];
  let at = 0;
  while (data.length - at >= FRAME_HEADER_BYTES) {
    const len = data.readUInt32BE(at);
    if (len > maxFrameBytes) return { frames, error: ErrorCode.FRAME_TOO_LARGE, leftover: 0, expected: -1 };
    if (len === 0) return { frames, error: ErrorCode.PROTOCOL_ERROR, leftover: 0, expected: -1 };
    if (at + FRAME_HEADER_BYTES + len > data.length) return { frames, error: null, leftover: data.length - at, expected: len };
    frames.push(data.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len));
    at += FRAME_HEADER_BYTES + len;
  }
  return { frames, error: null, leftover: data.length - at, expected: -1 };
}

/**
 * Zero bytes that bring `data` back to a frame boundary (or to a framing error), so a peer reading
 * it is never left waiting for the rest of a frame. Empty when it already ends on one.
 */
export function fillerToBoundary(data: Buffer, maxFrameBytes: number): Buffer {
  let filler = Buffer.alloc(0);
  for (let i = 0; i < 3; i++) {
    const ref = referenceFraming(Buffer.concat([data, filler]), maxFrameBytes);
    if (ref.error !== null || ref.leftover === 0) return filler;
    const need = ref.expected < 0 ? FRAME_HEADER_BYTES - ref.leftover : FRAME_HEADER_BYTES + ref.expected - ref.leftover;
    filler = Buffer.concat([filler, Buffer.alloc(need)]);
  }
  throw new Error('fillerToBoundary did not converge');
}

/** Hex of `b`, cut to `max` bytes, for failure messages. */
export function hex(b: Uint8Array, max = 4096): string {
  const s = Buffer.from(b.subarray(0, max)).toString('hex');
  return b.length > max ? `${s}... (${b.length} bytes)` : s;
}
