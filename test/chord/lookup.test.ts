/**
 * Lookups on a converged ring: from every peer, for many random keys, findSuccessor returns the
 * true successor among the live peers and the peers after it, and the mean number of hops grows
 * like log N.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { idEquals, idToHex, type Id } from '../../src/ring/index.js';
import type { Random } from '../../src/chord/clock.js';
import { expectReply } from '../../src/protocol/messages.js';
import { makeRing, roundsUntilConsistent, sortedRefs, trueSuccessor } from './ring-helpers.js';

function randomKey(random: Random): Id {
  const key = new Uint8Array(20);
  for (let i = 0; i < 20; i++) key[i] = Math.floor(random() * 256);
  return key;
}

async function convergedRing(n: number, t: TestContext) {
  const ring = await makeRing(n, t, { join: 'sequential', seed: n });
  await roundsUntilConsistent(ring, n + 10);
  return ring;
}

const KEYS_PER_PEER = 40;

for (const n of [8, 32, 64]) {
  test(`${n} peers: lookups from every peer find the true successor in O(log N) hops`, async (t) => {
    const ring = await convergedRing(n, t);
    const sorted = sortedRefs(ring.live());
    let total = 0;
    let count = 0;
    let max = 0;
    let succTotal = 0;
    for (const peer of ring.live()) {
      for (let k = 0; k < KEYS_PER_PEER; k++) {
        const key = randomKey(ring.random);
        const res = await peer.findSuccessor(key);
        const want = trueSuccessor(sorted, key);
        assert.ok(idEquals(res.owner.id, want.id), `owner of ${idToHex(key)} from ${peer.self.addr}`);
        // The peers after the owner, as the resolving peer knows them, in ring order.
        const at = sorted.findIndex((p) => idEquals(p.id, want.id));
        res.successors.forEach((s, i) => assert.ok(idEquals(s.id, sorted[(at + 1 + i) % n]!.id), `successor ${i} after the owner`));
        assert.ok(res.successors.length >= 1, 'at least one replica candidate');
        succTotal += res.successors.length;
        total += res.hops;
        max = Math.max(max, res.hops);
        count++;
      }
    }
    const mean = total / count;
    t.diagnostic(`n=${n}: mean hops ${mean.toFixed(2)}, max ${max} over ${count} lookups; mean successors returned ${(succTotal / count).toFixed(2)}`);
    assert.ok(mean <= Math.log2(n), `mean hops ${mean} should be at most log2(${n})`);
    assert.ok(max <= 2 * Math.ceil(Math.log2(n)) + 1, `max hops ${max}`);
  });
}

test('the lookup request answers with the owner and hops, validating the key', async (t) => {
  const ring = await convergedRing(8, t);
  const transport = ring.network.transport();
  const sorted = sortedRefs(ring.live());
  const key = randomKey(ring.random);
  const res = expectReply(await transport.request(ring.peers[2]!.self.addr, { type: 'lookup', keyId: key }), 'lookupReply');
  assert.ok(idEquals(res.owner.id, trueSuccessor(sorted, key).id));
  assert.ok(res.hops >= 0);
  await assert.rejects(transport.request(ring.peers[2]!.self.addr, { type: 'lookup', keyId: new Uint8Array(19) }), { code: 'INVALID_REQUEST' });
  await assert.rejects(transport.request(ring.peers[2]!.self.addr, { type: 'findSuccessor', key: new Uint8Array(3) }), { code: 'INVALID_REQUEST' });
});

test('a peer answers keys it owns and its successors own from its own state (0 hops)', async (t) => {
  const ring = await convergedRing(8, t);
  const peer = ring.peers[1]!;
  const own = await peer.findSuccessor(peer.self.id);
  assert.deepEqual({ owner: own.owner.addr, hops: own.hops }, { owner: peer.self.addr, hops: 0 });
  assert.ok(peer.owns(peer.self.id));
  const succ = peer.successors[0]!;
  const next = await peer.findSuccessor(succ.id);
  assert.deepEqual({ owner: next.owner.addr, hops: next.hops }, { owner: succ.addr, hops: 0 });
  assert.equal(peer.owns(succ.id), false);
});
