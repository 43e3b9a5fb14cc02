import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Membership } from '../../src/registry/membership.js';
import { compareIds, idToHex, peerIdForAddr } from '../../src/ring/index.js';
import { seededRandom } from '../../src/sim/random.js';
import type { PeerRef } from '../../src/protocol/messages.js';

const peer = (i: number): PeerRef => {
  const addr = `127.0.0.1:${4000 + i}`;
  return { id: peerIdForAddr(addr), addr };
};

test('add, list sorted by id, and replace on re-registration from another owner', () => {
  const m = new Membership<string>();
  for (let i = 0; i < 5; i++) m.add(peer(i), 'a');
  assert.equal(m.size, 5);
  const listed = m.list();
  for (let i = 1; i < listed.length; i++) assert.equal(compareIds(listed[i - 1]!.id, listed[i]!.id), -1);

  const moved = { id: peer(2).id, addr: '127.0.0.1:9999' };
  const replaced = m.add(moved, 'b');
  assert.equal(replaced?.owner, 'a');
  assert.equal(m.size, 5);
  assert.equal(m.get(moved.id)?.peer.addr, '127.0.0.1:9999');
  assert.equal(m.ownedBy('a'), 4);
  assert.equal(m.ownedBy('b'), 1);

  // The old owner going away must not take the re-registered peer with it.
  assert.equal(m.removeOwner('a').length, 4);
  assert.deepEqual(m.list().map((p) => p.addr), ['127.0.0.1:9999']);
});

test('remove only succeeds for the owner holding the entry', () => {
  const m = new Membership<string>();
  m.add(peer(1), 'a');
  assert.equal(m.remove(peer(1), 'b'), undefined);
  assert.equal(m.size, 1);
  assert.equal(m.remove(peer(1), 'a')?.peer.addr, peer(1).addr);
  assert.equal(m.size, 0);
  assert.equal(m.ownedBy('a'), 0);
});

test('entries are copies: mutating what was registered or listed changes nothing', () => {
  const m = new Membership<string>();
  const p = peer(1);
  m.add(p, 'a');
  p.id.fill(0);
  m.list()[0]!.id.fill(1);
  assert.equal(idToHex(m.list()[0]!.id), idToHex(peer(1).id));
});

test('sample: distinct, bounded by count and size, reproducible with a seed, covers everyone', () => {
  const m = new Membership<string>();
  for (let i = 0; i < 20; i++) m.add(peer(i), 'a');
  const random = seededRandom(7);
  const seen = new Set<string>();
  for (let round = 0; round < 50; round++) {
    const s = m.sample(5, random);
    assert.equal(s.length, 5);
    assert.equal(new Set(s.map((p) => p.addr)).size, 5, 'no peer twice in one sample');
    for (const p of s) seen.add(p.addr);
  }
  assert.equal(seen.size, 20, 'every member shows up in some sample');
  assert.equal(m.sample(100, random).length, 20);
  assert.equal(m.sample(0, random).length, 0);
  assert.deepEqual(
    m.sample(5, seededRandom(3)).map((p) => p.addr),
    m.sample(5, seededRandom(3)).map((p) => p.addr),
  );
  // A random source that returns values at the top of its range must not index out of bounds.
  assert.equal(m.sample(20, () => 0.9999999999).length, 20);
  assert.equal(new Membership<string>().sample(3, random).length, 0);
});
