import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRecords, nextVersion, supersedes, tombstone } from '../../src/store/record.js';
import { LocalStore } from '../../src/store/local-store.js';
import { batchRecords, replicaTargets } from '../../src/store/replication.js';
import { peerIdForAddr } from '../../src/ring/hash.js';
import type { PeerRef, StoredRecord } from '../../src/protocol/messages.js';

const enc = new TextEncoder();
const key = enc.encode('k');
const rec = (version: number, value: string | null): StoredRecord =>
  value === null ? tombstone(key, version) : { key, value: enc.encode(value), version, deleted: false };

test('last-writer-wins: a table of merges', () => {
  const cases: Array<[string, StoredRecord, StoredRecord | undefined, boolean]> = [
    ['anything beats nothing', rec(1, 'a'), undefined, true],
    ['a tombstone beats nothing', rec(1, null), undefined, true],
    ['higher version wins', rec(5, 'a'), rec(4, 'z'), true],
    ['lower version loses', rec(4, 'z'), rec(5, 'a'), false],
    ['newer tombstone beats older value', rec(6, null), rec(5, 'a'), true],
    ['older tombstone loses to newer value', rec(5, null), rec(6, 'a'), false],
    ['equal version: tombstone beats value', rec(5, null), rec(5, 'a'), true],
    ['equal version: value loses to tombstone', rec(5, 'a'), rec(5, null), false],
    ['equal version: larger bytes win', rec(5, 'b'), rec(5, 'a'), true],
    ['equal version: smaller bytes lose', rec(5, 'a'), rec(5, 'b'), false],
    ['equal version: longer prefix wins', rec(5, 'ab'), rec(5, 'a'), true],
    ['identical records do not replace', rec(5, 'a'), rec(5, 'a'), false],
    ['identical tombstones do not replace', rec(5, null), rec(5, null), false],
  ];
  for (const [name, incoming, existing, wins] of cases) {
    assert.equal(supersedes(incoming, existing), wins, name);
    if (existing) {
      // the order is antisymmetric, so every replica picks the same winner whatever the arrival order
      assert.equal(compareRecords(incoming, existing) + compareRecords(existing, incoming), 0, name);
    }
  }
});

test('nextVersion follows the clock but never goes back', () => {
  const cases: Array<[number, StoredRecord | undefined, number]> = [
    [1000, undefined, 1000],
    [0, undefined, 1], // versions start at 1 so 0 can mean "nothing"
    [1000, rec(999, 'a'), 1000],
    [1000, rec(1000, 'a'), 1001], // two writes in the same millisecond
    [1000, rec(5000, 'a'), 5001], // an owner with a slower clock than the previous one
    [1000.7, undefined, 1000],
    [1000, rec(5000, null), 5001], // a write after a delete goes above the tombstone
  ];
  for (const [now, existing, want] of cases) assert.equal(nextVersion(now, existing), want, `now=${now}`);
});

test('LocalStore merges by version and counts live records', () => {
  const s = new LocalStore();
  assert.equal(s.merge(rec(2, 'a')), true);
  assert.equal(s.merge(rec(1, 'old')), false);
  assert.deepEqual(s.get(key)?.value, enc.encode('a'));
  assert.equal(s.liveCount(), 1);
  assert.equal(s.merge(rec(3, null)), true, 'a tombstone replaces the value');
  assert.equal(s.liveCount(), 0);
  assert.equal(s.size, 1, 'the tombstone is kept');
  assert.equal(s.merge(rec(2, 'a')), false, 'an older copy arriving late does not resurrect the key');
  assert.equal(s.get(key)?.deleted, true);
  assert.equal(s.merge(rec(4, 'back')), true);
  assert.equal(s.liveCount(), 1);
  assert.equal(s.get(enc.encode('other')), undefined);
});

test('batchRecords bounds count and bytes and keeps order', () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ key: enc.encode(`k${i}`), value: new Uint8Array(100), version: i + 1, deleted: false }));
  const byCount = batchRecords(records, { maxRecords: 4, maxBytes: 1 << 20 });
  assert.deepEqual(byCount.map((b) => b.length), [4, 4, 2]);
  const byBytes = batchRecords(records, { maxRecords: 100, maxBytes: 300 });
  assert.ok(byBytes.every((b) => b.length === 2), 'each record is ~134 bytes, so two fit in 300');
  assert.deepEqual(byBytes.flat().map((r) => r.version), records.map((r) => r.version));
  const huge = { key, value: new Uint8Array(1000), version: 1, deleted: false };
  assert.deepEqual(batchRecords([huge], { maxRecords: 10, maxBytes: 100 }).map((b) => b.length), [1], 'an oversized record still moves');
  assert.deepEqual(batchRecords([], { maxRecords: 10, maxBytes: 100 }), []);
});

test('replicaTargets takes distinct successors other than self', () => {
  const p = (n: number): PeerRef => ({ id: peerIdForAddr(`h:${n}`), addr: `h:${n}` });
  const [a, b, c, d] = [p(1), p(2), p(3), p(4)];
  assert.deepEqual(replicaTargets(a, [b, c, d], 2), [b, c]);
  assert.deepEqual(replicaTargets(a, [b, a, b, c], 2), [b, c], 'a small ring wraps back to self');
  assert.deepEqual(replicaTargets(a, [a], 2), [], 'alone');
  assert.deepEqual(replicaTargets(a, [b], 0), []);
});
