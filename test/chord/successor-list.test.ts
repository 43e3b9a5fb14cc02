/** Table tests of the pure successor-list operations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSuccessors, sameList, spliceLeaver, withoutPeer, indexOfPeer } from '../../src/chord/successor-list.js';
import type { PeerRef } from '../../src/protocol/messages.js';

/** Peer with id byte 0 = n (ring order = numeric order). */
function p(n: number): PeerRef {
  const id = new Uint8Array(20);
  id[0] = n;
  return { id, addr: `p${n}` };
}
const names = (list: readonly PeerRef[]): string[] => list.map((x) => x.addr);

test('mergeSuccessors: head + its list, cut where it wraps back to self, deduplicated, truncated to r', () => {
  const self = p(10);
  assert.deepEqual(names(mergeSuccessors(self, p(20), [p(30), p(40), p(50)], 3)), ['p20', 'p30', 'p40']);
  assert.deepEqual(names(mergeSuccessors(self, p(20), [p(30), p(10), p(20)], 8)), ['p20', 'p30'], 'stops at self');
  assert.deepEqual(names(mergeSuccessors(self, p(20), [p(20), p(30), p(30)], 8)), ['p20', 'p30'], 'no duplicates');
  assert.deepEqual(names(mergeSuccessors(self, p(10), [p(20)], 8)), ['p10'], 'head = self means alone');
  assert.deepEqual(names(mergeSuccessors(self, p(20), [], 8)), ['p20']);
});

test('withoutPeer: removes by id and falls back to [self] only when the list empties', () => {
  const self = p(10);
  const list = [p(20), p(30)];
  assert.deepEqual(names(withoutPeer(self, list, p(20))), ['p30']);
  assert.equal(withoutPeer(self, list, p(99)), list, 'unchanged list is returned as is');
  assert.deepEqual(names(withoutPeer(self, [p(20)], { id: p(20).id, addr: 'other' })), ['p10']);
});

test('spliceLeaver: the leaver is replaced in place by its successors', () => {
  const self = p(10);
  const list = [p(20), p(30), p(40), p(50)];
  assert.deepEqual(names(spliceLeaver(self, list, 0, [p(30), p(40), p(50), p(60)], 4)), ['p30', 'p40', 'p50', 'p60']);
  assert.deepEqual(names(spliceLeaver(self, list, 1, [p(35), p(40)], 4)), ['p20', 'p35', 'p40', 'p50']);
  assert.deepEqual(names(spliceLeaver(self, [p(20)], 0, [p(10)], 4)), ['p10'], 'two-peer ring: back to alone');
  assert.deepEqual(names(spliceLeaver(self, [p(20), p(30)], 0, [p(30), p(10), p(20)], 4)), ['p30'], 'stops at self');
});

test('sameList and indexOfPeer compare by id (and address for sameList)', () => {
  assert.ok(sameList([p(1), p(2)], [p(1), p(2)]));
  assert.ok(!sameList([p(1), p(2)], [p(2), p(1)]));
  assert.ok(!sameList([p(1)], [{ id: p(1).id, addr: 'moved' }]));
  assert.equal(indexOfPeer([p(1), p(2)], { id: p(2).id, addr: 'x' }), 1);
  assert.equal(indexOfPeer([p(1)], p(3)), -1);
});
