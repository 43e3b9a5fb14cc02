import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RemoteError, RingwireError } from '../../src/errors/errors.js';
import { keyId } from '../../src/ring/hash.js';
import { flushMicrotasks } from '../../src/sim/manual-clock.js';
import { STORE_DEFAULTS } from '../../src/store/kv-store.js';
import type { StoredRecord } from '../../src/protocol/messages.js';
import { makeFakeCluster, type FakeCluster } from './fake-ring.js';
import { settleWithClock } from '../helpers/manual-time.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const k = (s: string): Uint8Array => enc.encode(s);

/** Peers (still listening) that hold a live copy of `key` with exactly `version`. */
function holders(c: FakeCluster, key: Uint8Array, version: number): string[] {
  return c.nodes
    .filter((n) => c.network.isListening(n.addr))
    .filter((n) => {
      const r = n.store.localRecord(key);
      return r !== undefined && !r.deleted && r.version === version;
    })
    .map((n) => n.addr);
}

function replicaAddrs(c: FakeCluster, key: Uint8Array, replicas = 3): string[] {
  return c.membership.replicaSet(keyId(key), replicas).map((p) => p.addr);
}

async function rejectsWith(p: Promise<unknown>, code: string, msg?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RingwireError, `a RingwireError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (msg) assert.match(err.message, msg);
    return true;
  });
}

test('a lone peer stores, reads, overwrites and deletes with one copy', async (t) => {
  const c = makeFakeCluster(t, 1);
  const s = c.nodes[0]!.store;
  const put = await s.put(k('a'), k('1'));
  assert.equal(put.copies, 1);
  assert.equal(put.hops, 0);
  const got = await s.get(k('a'));
  assert.equal(got.found, true);
  assert.equal(dec.decode(got.value), '1');
  assert.equal(got.version, put.version);
  const again = await s.put(k('a'), k('2'));
  assert.ok(again.version > put.version, 'an overwrite gets a higher version even at the same clock time');
  assert.equal(dec.decode((await s.get(k('a'))).value), '2');
  assert.deepEqual(await s.get(k('missing')), { found: false, value: new Uint8Array(0), version: 0, hops: 0 });
  assert.equal(s.ownedKeyCount(), 1);
  assert.equal(s.recordCount(), 1);

  const del = await s.delete(k('a'));
  assert.equal(del.found, true);
  assert.ok(del.version > again.version);
  const after = await s.get(k('a'));
  assert.equal(after.found, false);
  assert.equal(after.value.length, 0);
  assert.equal(s.localRecord(k('a'))?.deleted, true, 'the tombstone is kept so replicas converge');
  assert.equal(s.recordCount(), 0);
  assert.equal(s.ownedKeyCount(), 0);
  assert.equal((await s.delete(k('a'))).found, false, 'deleting a deleted key finds nothing');
  assert.equal((await s.delete(k('never'))).found, false);
});

test('values above the limit fail with VALUE_TOO_LARGE naming size and limit; bad keys are refused', async (t) => {
  const c = makeFakeCluster(t, 1);
  const s = c.nodes[0]!.store;
  const limit = STORE_DEFAULTS.maxValueBytes;
  assert.equal((await s.put(k('max'), new Uint8Array(limit))).copies, 1, 'exactly the limit is fine');
  await rejectsWith(s.put(k('big'), new Uint8Array(limit + 1)), ErrorCode.VALUE_TOO_LARGE, new RegExp(`${limit + 1} bytes.*${limit} bytes`));
  assert.equal(s.localRecord(k('big')), undefined);
  await rejectsWith(s.put(new Uint8Array(0), k('v')), ErrorCode.INVALID_REQUEST, /empty/);
  await rejectsWith(s.get(new Uint8Array(STORE_DEFAULTS.maxKeyBytes + 1)), ErrorCode.INVALID_REQUEST, /limit/);
});

test('requests from the wire are validated', async (t) => {
  const c = makeFakeCluster(t, 2, { maxValueBytes: 16 });
  const tr = c.network.transport();
  const addr = c.nodes[0]!.addr;
  const bad: Array<[StoredRecord | Record<string, unknown>, string]> = [
    [{ key: new Uint8Array(0), value: k('v'), version: 1, deleted: false }, ErrorCode.INVALID_REQUEST],
    [{ key: k('a'), value: new Uint8Array(17), version: 1, deleted: false }, ErrorCode.VALUE_TOO_LARGE],
    [{ key: k('a'), value: k('v'), version: Number.NaN, deleted: false }, ErrorCode.INVALID_REQUEST],
    [{ key: k('a'), value: k('v'), version: 1, deleted: true }, ErrorCode.INVALID_REQUEST],
    [{ key: 'a', value: k('v'), version: 1, deleted: false }, ErrorCode.INVALID_REQUEST],
  ];
  for (const [record, code] of bad) {
    await rejectsWith(tr.request(addr, { type: 'replicate', records: [record as StoredRecord] }), code);
  }
  assert.equal(c.nodes[0]!.store.recordCount(), 0, 'nothing invalid was stored');
  await rejectsWith(tr.request(addr, { type: 'ownerWrite', key: k('a'), value: new Uint8Array(17), deleted: false }), ErrorCode.VALUE_TOO_LARGE);
  await rejectsWith(tr.request(addr, { type: 'put', key: k('a'), value: new Uint8Array(17) }), ErrorCode.VALUE_TOO_LARGE);
  await rejectsWith(tr.request(addr, { type: 'read', key: new Uint8Array(0) }), ErrorCode.INVALID_REQUEST);
  await rejectsWith(tr.request(addr, { type: 'ping' }), ErrorCode.UNKNOWN_MESSAGE);
  const err = await tr.request(addr, { type: 'get', key: new Uint8Array(0) }).catch((e: unknown) => e);
  assert.ok(err instanceof RemoteError, 'an error reply, the peer is alive');
});

test('a write is stored on its owner and the next two successors, and readable through every peer', async (t) => {
  const c = makeFakeCluster(t, 6);
  const keys = Array.from({ length: 40 }, (_, i) => k(`key-${i}`));
  for (const [i, key] of keys.entries()) {
    const res = await c.nodes[i % c.nodes.length]!.store.put(key, k(`value-${i}`));
    assert.equal(res.copies, 3);
    assert.deepEqual(holders(c, key, res.version).sort(), replicaAddrs(c, key).sort());
  }
  for (const n of c.nodes) {
    for (const [i, key] of keys.entries()) {
      const got = await n.store.get(key);
      assert.equal(got.found, true);
      assert.equal(dec.decode(got.value), `value-${i}`);
    }
  }
  const owned = c.nodes.reduce((sum, n) => sum + n.store.ownedKeyCount(), 0);
  assert.equal(owned, keys.length, 'every key has exactly one owner');
  assert.equal(c.nodes.reduce((sum, n) => sum + n.store.recordCount(), 0), 3 * keys.length);
});

test('the client operations work over the wire through any peer', async (t) => {
  const c = makeFakeCluster(t, 4);
  const tr = c.network.transport();
  const put = await tr.request(c.nodes[0]!.addr, { type: 'put', key: k('w'), value: k('x') });
  assert.equal(put.type, 'putReply');
  const got = await tr.request(c.nodes[3]!.addr, { type: 'get', key: k('w') });
  assert.ok(got.type === 'getReply' && got.found && dec.decode(got.value) === 'x');
  const del = await tr.request(c.nodes[2]!.addr, { type: 'delete', key: k('w') });
  assert.ok(del.type === 'deleteReply' && del.found);
  const gone = await tr.request(c.nodes[1]!.addr, { type: 'get', key: k('w') });
  assert.ok(gone.type === 'getReply' && !gone.found);
});

test('a dead owner: reads fall back to replicas, writes suspect it and retry on the new owner', async (t) => {
  const c = makeFakeCluster(t, 5);
  const key = k('fallback');
  const v1 = await c.nodes[0]!.store.put(key, k('one'));
  const [owner, next] = replicaAddrs(c, key);
  c.crash(owner!);
  const entry = c.nodes.find((n) => n.addr !== owner)!;
  const got = await entry.store.get(key);
  assert.equal(got.found, true);
  assert.equal(dec.decode(got.value), 'one');
  assert.ok(c.membership.suspected.includes(owner!), 'the failed owner was reported to the ring');

  const v2 = await entry.store.put(key, k('two'));
  assert.ok(v2.version > v1.version);
  assert.equal(c.membership.ownerOf(keyId(key)).addr, next, 'the successor took over');
  assert.equal(dec.decode((await entry.store.get(key)).value), 'two');
});

test('an owner that cannot reach enough replicas answers REPLICATION_FAILED', async (t) => {
  const c = makeFakeCluster(t, 3);
  c.membership.suspectRemoves = false; // routing keeps listing the dead: nothing to fail over to
  const key = k('lonely');
  const [owner, r1, r2] = replicaAddrs(c, key);
  c.crash(r1!);
  c.crash(r2!);
  await rejectsWith(c.node(owner!).store.put(key, k('v')), ErrorCode.REPLICATION_FAILED, /only 1 of the 2 required copies/);
  assert.equal(c.node(owner!).store.localRecord(key)?.deleted, false, 'the owner kept its own copy');
});

/** A record for `name` that only the key's two replicas hold (its owner lacks it). */
async function onReplicasOnly(c: FakeCluster, name: string, version: number): Promise<{ key: Uint8Array; owner: string; r1: string; r2: string }> {
  const key = k(name);
  const [owner, r1, r2] = replicaAddrs(c, key) as [string, string, string];
  const record: StoredRecord = { key, value: k('only-on-replicas'), version, deleted: false };
  const tr = c.network.transport();
  await tr.request(r1, { type: 'replicate', records: [record] });
  await tr.request(r2, { type: 'replicate', records: [record] });
  return { key, owner, r1, r2 };
}

test('a read repairs an owner that lacked the record', async (t) => {
  const c = makeFakeCluster(t, 5);
  const { key, owner } = await onReplicasOnly(c, 'repair-me', 77);
  const entry = c.nodes.find((n) => n.addr !== owner)!;
  const got = await entry.store.get(key);
  assert.equal(got.found, true);
  assert.equal(got.version, 77);
  await flushMicrotasks();
  assert.equal(c.node(owner).store.localRecord(key)?.version, 77);
});

test('a cached route naming too few followers does not hide a record only the replicas hold', async (t) => {
  const c = makeFakeCluster(t, 5);
  const { key, owner, r1, r2 } = await onReplicasOnly(c, 'cached-short', 78);
  const entry = c.nodes.find((n) => n.addr !== owner && n.addr !== r1 && n.addr !== r2)!;
  // The route cache's hint: the right owner, but none of its followers (learned from the end of a list).
  let forgotten = 0;
  Object.assign(entry.ring, {
    cachedRoute: () => ({ owner: c.membership.ownerOf(keyId(key)), successors: [], hops: 0 }),
    forgetRoute: () => void forgotten++,
  });
  const got = await entry.store.get(key);
  assert.equal(got.found, true, 'found on the replicas the routed lookup named');
  assert.equal(got.version, 78);
  assert.equal(forgotten, 1, 'the short hint was dropped');
});

test('a tombstone wins over an older copy arriving later, and get reports not found', async (t) => {
  const c = makeFakeCluster(t, 5);
  const key = k('ghost');
  const put = await c.nodes[1]!.store.put(key, k('alive'));
  await c.clock.advance(10);
  const del = await c.nodes[2]!.store.delete(key);
  assert.equal(del.found, true);
  assert.ok(del.version > put.version);
  const stale: StoredRecord = { key, value: k('alive'), version: put.version, deleted: false };
  const tr = c.network.transport();
  for (const addr of replicaAddrs(c, key)) {
    await tr.request(addr, { type: 'replicate', records: [stale] });
    const held = c.node(addr).store.localRecord(key);
    assert.equal(held?.deleted, true, `${addr} kept the tombstone`);
    assert.equal(held?.version, del.version);
  }
  for (const n of c.nodes) assert.equal((await n.store.get(key)).found, false);
  // a later write resurrects the key above the tombstone
  const again = await c.nodes[0]!.store.put(key, k('reborn'));
  assert.ok(again.version > del.version);
  assert.equal(dec.decode((await c.nodes[4]!.store.get(key)).value), 'reborn');
});

test('a new predecessor receives the keys it now owns and replicates', async (t) => {
  const c = makeFakeCluster(t, 4);
  const keys = Array.from({ length: 60 }, (_, i) => k(`move-${i}`));
  const versions = new Map<Uint8Array, number>();
  for (const key of keys) versions.set(key, (await c.nodes[0]!.store.put(key, key)).version);
  const joined = c.addNode('10.0.0.9:4000');
  await c.clock.advance(STORE_DEFAULTS.repairAfterChangeMs + 1);
  assert.ok(joined.store.ownedKeyCount() > 0, 'the newcomer owns some keys');
  for (const key of keys) {
    const expected = replicaAddrs(c, key);
    const have = holders(c, key, versions.get(key)!);
    for (const addr of expected) assert.ok(have.includes(addr), `${dec.decode(key)} on ${addr}`);
    assert.equal(dec.decode((await joined.store.get(key)).value), dec.decode(key));
  }
});

test('graceful leave: handOff then leaving loses no key', async (t) => {
  const c = makeFakeCluster(t, 5);
  const keys = Array.from({ length: 60 }, (_, i) => k(`leave-${i}`));
  for (const key of keys) await c.nodes[0]!.store.put(key, key);
  const leaving = c.nodes[2]!;
  await leaving.store.handOff();
  leaving.store.stop();
  c.network.crash(leaving.addr);
  c.membership.remove(leaving.addr);
  c.membership.update();
  await c.clock.advance(STORE_DEFAULTS.repairAfterChangeMs + 1);
  for (const key of keys) {
    assert.equal((await c.nodes[0]!.store.get(key)).found, true);
    const versions = c.nodes.map((n) => n.store.localRecord(key)?.version).filter((v) => v !== undefined);
    assert.ok(holders(c, key, Math.max(...(versions as number[]))).length >= 3, `${dec.decode(key)} back at 3 copies`);
  }
});

test('a peer handing off refuses writes and copies (NOT_READY); a write meanwhile lands on the next owner once it left', async (t) => {
  const c = makeFakeCluster(t, 5, { replicas: 2 });
  const key = k('written-during-leave');
  const owner = c.node(c.membership.ownerOf(keyId(key)).addr);
  const entry = c.nodes.find((n) => n !== owner)!;
  owner.store.stop();
  await owner.store.handOff();
  const transport = c.network.transport();
  await rejectsWith(transport.request(owner.addr, { type: 'ownerWrite', key, value: k('x'), deleted: false }), ErrorCode.NOT_READY, /leaving/);
  const rec: StoredRecord = { key, value: k('x'), version: 1, deleted: false };
  await rejectsWith(transport.request(owner.addr, { type: 'replicate', records: [rec] }), ErrorCode.NOT_READY, /leaving/);

  // The routing still names the leaving peer as owner: the write waits and retries; the peer then
  // leaves and the routing moves on, so a later attempt reaches the new owner.
  const put = entry.store.put(key, k('v'));
  await c.clock.advance(1);
  c.network.crash(owner.addr);
  c.membership.remove(owner.addr);
  c.membership.update();
  const { value } = await settleWithClock(c.clock, put, 5_000);
  assert.equal(value.copies, 2);
  assert.equal(owner.store.localRecord(key), undefined, 'the departed peer took no copy with it');
  assert.equal(holders(c, key, value.version).length, 2);
  assert.equal(dec.decode((await entry.store.get(key)).value), 'v');
});

test('hand-off passes over a successor that is leaving too', async (t) => {
  const c = makeFakeCluster(t, 5, { replicas: 2 });
  const sorted = [...c.nodes].sort((a, b) => Buffer.compare(Buffer.from(a.ring.self.id), Buffer.from(b.ring.self.id)));
  const [first, second, third] = [sorted[1]!, sorted[2]!, sorted[3]!];
  const keys = Array.from({ length: 40 }, (_, i) => k(`pair-${i}`));
  for (const key of keys) await c.nodes[0]!.store.put(key, key);
  const held = keys.filter((key) => first.store.localRecord(key) !== undefined);
  assert.ok(held.length > 0);
  second.store.stop();
  await second.store.handOff(); // the next peer starts leaving first
  first.store.stop();
  await first.store.handOff();
  for (const key of held) assert.ok(third.store.localRecord(key), `${dec.decode(key)} reached the peer after both leavers`);
});

test('periodic repair restores copies after an adjacent pair crashes, and stop leaves no timer', async (t) => {
  const c = makeFakeCluster(t, 8);
  const keys = Array.from({ length: 100 }, (_, i) => k(`crash-${i}`));
  const versions = new Map<Uint8Array, number>();
  for (const key of keys) versions.set(key, (await c.nodes[i(key)]!.store.put(key, key)).version);
  function i(key: Uint8Array): number {
    return key[key.length - 1]! % c.nodes.length;
  }
  const sorted = [...c.nodes].sort((a, b) => Buffer.compare(Buffer.from(a.ring.self.id), Buffer.from(b.ring.self.id)));
  const [a, b] = [sorted[2]!, sorted[3]!];
  c.crash(a.addr);
  c.crash(b.addr);
  // the oracle's failure detector: routing drops both, views fire their changes
  c.membership.suspect(a.ring.self);
  c.membership.suspect(b.ring.self);
  await c.clock.advance(STORE_DEFAULTS.repairIntervalMs + 1);
  for (const key of keys) {
    const have = holders(c, key, versions.get(key)!);
    for (const addr of replicaAddrs(c, key)) assert.ok(have.includes(addr), `${dec.decode(key)} restored on ${addr}`);
    assert.equal((await sorted[0]!.store.get(key)).found, true);
  }
  for (const n of c.nodes) n.store.stop();
  assert.equal(c.clock.pending(), 0);
});

test('a write reaching a peer outside its range (a stale route) is copied to that peer\'s predecessor', async (t) => {
  const c = makeFakeCluster(t, 5);
  const key = k('stale-route');
  const [owner, next] = replicaAddrs(c, key);
  // the route is stale: the entry thinks `next` owns the key, which its predecessor `owner` now does
  const res = await c.network.transport().request(next!, { type: 'ownerWrite', key, value: k('fresh'), deleted: false });
  assert.equal(res.type, 'ownerWriteReply');
  assert.equal(c.node(owner!).store.localRecord(key)?.version, res.type === 'ownerWriteReply' ? res.version : -1);
  assert.equal(dec.decode((await c.nodes[0]!.store.get(key)).value), 'fresh');
});

test('nonsense options are refused at construction', (t) => {
  for (const init of [{ replicas: 0 }, { repairIntervalMs: 0 }, { maxValueBytes: 1.5 }, { requestTimeoutMs: Number.NaN }]) {
    assert.throws(() => makeFakeCluster(t, 1, init), (err: unknown) => err instanceof RingwireError && err.code === ErrorCode.INVALID_REQUEST && /positive integer/.test(err.message));
  }
});
