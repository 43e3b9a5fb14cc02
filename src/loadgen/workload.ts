/**
 * The operations `chord bench` issues, each checked against what the ring must answer: a get
 * returns the value the preload put, a put is acknowledged with at least the promised copies, a
 * lookup names the owner computed from the walked ring. Keys and values are derived from the key
 * index alone, so every thread checks answers without sharing state.
 */
import { RingwireError } from '../errors/errors.js';
import type { RingClient } from '../net/client.js';
import { expectReply } from '../protocol/messages.js';
import { idEquals, keyId, type Id } from '../ring/index.js';
import { ownerOf, type RingMap } from './ring-map.js';

export const BENCH_OPS = ['lookup', 'get', 'put', 'mixed'] as const;
export type BenchOp = (typeof BENCH_OPS)[number];

/** Share of puts in the mixed workload (the rest are gets): a read-heavy cache-like mix. */
export const MIXED_PUT_SHARE = 0.1;

/** An answer that came back but was wrong: counted under `code` in the report's errors. */
export class CheckFailed extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CheckFailed';
    this.code = code;
  }
}

/** The error code an operation failure is counted under. */
export function errorCodeOf(err: unknown): string {
  if (err instanceof CheckFailed || err instanceof RingwireError) return err.code;
  return 'UNKNOWN';
}

export interface WorkloadInit {
  op: BenchOp;
  keys: number;
  valueSize: number;
}

/** The key set: key bytes, ids and expected values by index. */
export interface KeySet {
  keys: Uint8Array[];
  ids: Id[];
  values: Uint8Array[];
}

const encoder = new TextEncoder();

/** Key i is `bench:<i>`; its value is `<i>:` repeated to valueSize bytes (distinct per key). */
export function makeKeySet(count: number, valueSize: number): KeySet {
  const keys: Uint8Array[] = [];
  const ids: Id[] = [];
  const values: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const key = encoder.encode(`bench:${i}`);
    keys.push(key);
    ids.push(keyId(key));
    const unit = encoder.encode(`${i}:`);
    const value = new Uint8Array(valueSize);
    for (let j = 0; j < valueSize; j++) value[j] = unit[j % unit.length]!;
    values.push(value);
  }
  return { keys, ids, values };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One checked operation on key `k` entering at `entry`; resolves to its hop count. */
export type Operation = (entry: string, k: number, random: () => number) => Promise<number>;

/** The checked operation for `init.op` over `keys`, against `ring`. */
export function makeOperation(client: RingClient, ring: RingMap, set: KeySet, op: BenchOp, routeCache = true): Operation {
  // With the cache off, every request asks its entry peer to route (hops then measure routing).
  const routing = routeCache ? {} : { noRouteCache: true };
  // A put is acknowledged once two copies exist (one on a lone peer): anything less is a failure.
  const minCopies = Math.min(2, ring.peers.length);
  const get: Operation = async (entry, k) => {
    const res = expectReply(await client.request(entry, { type: 'get', key: set.keys[k]!, ...routing }), 'getReply');
    if (!res.found) throw new CheckFailed('NOT_FOUND', `bench:${k} not found through ${entry}`);
    if (!sameBytes(res.value, set.values[k]!)) throw new CheckFailed('WRONG_VALUE', `bench:${k} came back with another value through ${entry}`);
    return res.hops;
  };
  const put: Operation = async (entry, k) => {
    const res = expectReply(await client.request(entry, { type: 'put', key: set.keys[k]!, value: set.values[k]!, ...routing }), 'putReply');
    if (res.copies < minCopies) throw new CheckFailed('TOO_FEW_COPIES', `bench:${k} stored with ${res.copies} copies`);
    return res.hops;
  };
  const lookup: Operation = async (entry, k) => {
    const res = expectReply(await client.request(entry, { type: 'lookup', keyId: set.ids[k]!, ...routing }), 'lookupReply');
    const want = ownerOf(ring, set.ids[k]!);
    if (!idEquals(res.owner.id, want.id)) throw new CheckFailed('WRONG_OWNER', `bench:${k}: ${entry} named ${res.owner.addr}, the ring says ${want.addr}`);
    return res.hops;
  };
  switch (op) {
    case 'get':
      return get;
    case 'put':
      return put;
    case 'lookup':
      return lookup;
    case 'mixed':
      return (entry, k, random) => (random() < MIXED_PUT_SHARE ? put(entry, k, random) : get(entry, k, random));
  }
}
