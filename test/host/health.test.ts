import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHealth, TrueRing } from '../../src/host/health.js';
import type { PeerSnapshot } from '../../src/host/worker-protocol.js';
import { addPowerOfTwo, ID_BITS, idFromHex, idToHex } from '../../src/ring/index.js';

const ids = ['10', '40', '80', 'c0'].map((b) => b + '0'.repeat(38));

/** Snapshots of a perfectly maintained ring of `ids`, fingers included. */
function perfect(members: string[]): PeerSnapshot[] {
  const ring = new TrueRing(members);
  return ring.hex.map((id, i) => ({
    id,
    addr: `127.0.0.1:${4001 + i}`,
    worker: i % 2,
    predecessor: members.length === 1 ? null : ring.hex[(i - 1 + ring.hex.length) % ring.hex.length]!,
    successors: Array.from({ length: Math.max(1, Math.min(8, ring.hex.length - 1)) }, (_, k) => ring.hex[(i + 1 + k) % ring.hex.length]!),
    fingers: Array.from({ length: ID_BITS }, (_, b) => ring.successorOf(addPowerOfTwo(idFromHex(id), b))),
    keys: 0,
    stored: 0,
  }));
}

test('a perfect ring is fully consistent; a lone peer with no predecessor is too', () => {
  assert.deepEqual(
    { ...computeHealth(perfect(ids), 3), problems: [] },
    { peers: 4, ringConsistent: 1, fullyConsistent: 1, keysBelowReplicaTarget: null, keys: null, problems: [] },
  );
  assert.equal(computeHealth(perfect([ids[0]!]), 3).ringConsistent, 1);
});

test('a wrong successor, predecessor or finger lowers the right fraction', () => {
  const peers = perfect(ids);
  peers[0]!.successors = [ids[2]!, ids[3]!, ids[0]!]; // skips 40..
  peers[1]!.fingers[159] = ids[0]!; // the true finger 159 of 40.. is c0..
  const h = computeHealth(peers, 3);
  assert.equal(h.ringConsistent, 0.75);
  assert.equal(h.fullyConsistent, 0.5);
  assert.match(h.problems[0]!, /successor/);
});

test('without fingers, the ring is still judged and fullyConsistent says it was not', () => {
  const peers = perfect(ids).map((p) => ({ ...p, fingers: [] }));
  const h = computeHealth(peers, 3, undefined, 8, false);
  assert.equal(h.ringConsistent, 1);
  assert.ok(Number.isNaN(h.fullyConsistent));
  peers[2]!.predecessor = ids[0]!; // the true predecessor of 80.. is 40..
  assert.equal(computeHealth(peers, 3, undefined, 8, false).ringConsistent, 0.75);
});

test('keys below their replica target are counted against the true replica set', () => {
  const key = '20' + '0'.repeat(38); // owner 40.., replicas 80.., c0..
  const ring = new TrueRing(ids);
  assert.deepEqual(ring.replicaSet(idFromHex(key), 3), [ids[1], ids[2], ids[3]]);
  const full = new Map([[ids[1]!, [key]], [ids[2]!, [key]], [ids[3]!, [key]]]);
  assert.equal(computeHealth(perfect(ids), 3, full).keysBelowReplicaTarget, 0);
  const short = new Map([[ids[1]!, [key]], [ids[0]!, [key]], [ids[3]!, [key]]]); // a copy on the wrong peer
  const h = computeHealth(perfect(ids), 3, short);
  assert.equal(h.keysBelowReplicaTarget, 1);
  assert.equal(h.keys, 1);
  assert.equal(idToHex(idFromHex(key)), key);
});
