/**
 * Unit cases of the peer's steps, driven by hand (no timers): rectify and stabilize never adopt
 * an unverified pointer, a dead successor is dropped at once, and the lifecycle and request
 * validation behave as documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChordPeer, type RingChange } from '../../src/chord/peer.js';
import { CHORD_DEFAULTS } from '../../src/chord/defaults.js';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { MemoryNetwork } from '../../src/sim/memory-network.js';
import { seededRandom } from '../../src/sim/random.js';
import { compareIds, idEquals, peerIdForAddr, between } from '../../src/ring/index.js';
import type { PeerRef } from '../../src/protocol/messages.js';
import { makeRing, ringMismatch, type TestRing } from './ring-helpers.js';
import type { TestContext } from 'node:test';

/** A ring of n built and converged by calling the steps directly (no clock involved). */
async function steppedRing(n: number, t: TestContext, seed = 1): Promise<TestRing> {
  const ring = await makeRing(n, t, { join: 'sequential', start: false, seed });
  for (let i = 0; i < n + 4; i++) for (const p of ring.live()) await p.stabilize();
  for (let i = 0; i < 10; i++) for (const p of ring.live()) await p.fixFingers();
  assert.equal(ringMismatch(ring.live(), ring.r), null);
  return ring;
}

/** A PeerRef nobody listens at, with an id chosen in (a, b). */
function deadRefBetween(a: PeerRef, b: PeerRef): PeerRef {
  for (let i = 0; ; i++) {
    const addr = `dead-${i}:1`;
    const id = peerIdForAddr(addr);
    if (between(a.id, id, b.id)) return { id, addr };
  }
}

function sorted(ring: TestRing): ChordPeer[] {
  return [...ring.live()].sort((a, b) => compareIds(a.self.id, b.self.id));
}

test('rectify: a notify naming a dead peer is never adopted, a live closer one is', async (t) => {
  const ring = await steppedRing(5, t);
  const [w, x] = sorted(ring);
  const net = ring.network.transport();
  const pred = x!.predecessor!;
  assert.ok(idEquals(pred.id, w!.self.id));
  const ghost = deadRefBetween(pred, x!.self);
  assert.equal((await net.request(x!.self.addr, { type: 'notify', peer: ghost })).type, 'ack');
  assert.ok(idEquals(x!.predecessor!.id, w!.self.id), 'a dead notifier between pred and self is not adopted');

  x!.suspect(w!.self); // predecessor now unknown
  assert.equal(x!.predecessor, null);
  await net.request(x!.self.addr, { type: 'notify', peer: ghost });
  assert.equal(x!.predecessor, null, 'a dead notifier is not adopted even when the predecessor is unknown');
  await net.request(x!.self.addr, { type: 'notify', peer: w!.self });
  assert.ok(idEquals(x!.predecessor!.id, w!.self.id), 'a live notifier is adopted when the predecessor is unknown');
});

test('rectify: a farther notifier replaces the predecessor only when it is dead (checked)', async (t) => {
  const ring = await steppedRing(5, t);
  const order = sorted(ring);
  const [v, w, x] = order;
  const net = ring.network.transport();
  await net.request(x!.self.addr, { type: 'notify', peer: v!.self });
  assert.ok(idEquals(x!.predecessor!.id, w!.self.id), 'a live predecessor is kept against a farther notifier');
  ring.crash(w!);
  await net.request(x!.self.addr, { type: 'notify', peer: v!.self });
  assert.ok(idEquals(x!.predecessor!.id, v!.self.id), 'a dead predecessor (pinged) gives way to the notifier');
});

test('stabilize: a successor whose predecessor does not answer keeps its place', async (t) => {
  const ring = await steppedRing(4, t);
  const [a, b] = sorted(ring);
  // A newcomer F between A and B joins and notifies B, then crashes before A hears of it.
  let f: ChordPeer | undefined;
  for (;;) {
    const p = ring.addPeer();
    if (between(a!.self.id, p.self.id, b!.self.id)) {
      f = p;
      break;
    }
    ring.network.crash(p.self.addr);
    p.stop();
  }
  await f.join(a!.self.addr);
  await f.stabilize();
  assert.ok(idEquals(b!.predecessor!.id, f.self.id), "B took F as predecessor");
  ring.crash(f);
  await a!.stabilize();
  assert.ok(idEquals(a!.successors[0]!.id, b!.self.id), "A did not adopt B's dead predecessor");
  // A's notify made B check F: dead, so B took A back.
  assert.ok(idEquals(b!.predecessor!.id, a!.self.id));
});

test('stabilize: dead first successors are dropped at once, within one call', async (t) => {
  const ring = await steppedRing(8, t);
  const order = sorted(ring);
  const x = order[0]!;
  ring.crash(order[1]!);
  ring.crash(order[2]!);
  await x.stabilize();
  assert.deepEqual(
    x.successors.map((p) => p.addr),
    order.slice(3).map((p) => p.self.addr), // the 5 survivors after x, in ring order
  );
  assert.ok(idEquals(order[3]!.predecessor!.id, x.self.id), 'the new successor was notified and took us');
});

test('checkPredecessor forgets a crashed predecessor and reports the change', async (t) => {
  const ring = await steppedRing(4, t);
  const [w, x] = sorted(ring);
  const changes: RingChange[] = [];
  const off = x!.onChange((c) => changes.push(c));
  ring.crash(w!);
  await x!.checkPredecessor();
  assert.equal(x!.predecessor, null);
  assert.equal(changes.length, 1);
  assert.ok(idEquals(changes[0]!.predecessor!.from!.id, w!.self.id));
  assert.equal(changes[0]!.predecessor!.to, null);
  off();
  await x!.stabilize();
  assert.equal(changes.length, 1, 'no events after unsubscribing');
});

test("leave: the successor adopts the leaver's predecessor only after it answers", async (t) => {
  const ring = await steppedRing(5, t);
  const [w, x] = sorted(ring);
  const net = ring.network.transport();
  const ghost = deadRefBetween(x!.self, w!.self);
  const changes: RingChange[] = [];
  x!.onChange((c) => changes.push(c));
  await net.request(x!.self.addr, { type: 'leave', peer: w!.self, predecessor: ghost, successors: [x!.self] });
  assert.equal(x!.predecessor, null, 'an unverified predecessor is not adopted');
  assert.ok(changes.some((c) => c.predecessor && c.predecessor.to === null));
});

test('join: duplicate id, unreachable bootstrap and a second join fail with JOIN_FAILED', async (t) => {
  const ring = await steppedRing(3, t);
  const twin = new ChordPeer(
    { transport: ring.network.transport(), clock: ring.clock, random: seededRandom(9) },
    { id: ring.peers[1]!.self.id, addr: 'twin:1' },
  );
  t.after(() => twin.stop());
  ring.network.listen('twin:1', (req) => twin.handle(req)!);
  await assert.rejects(twin.join(ring.peers[0]!.self.addr), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'JOIN_FAILED');
    assert.match(err.message, /duplicate id/);
    return true;
  });
  assert.equal(twin.status, 'idle');

  const lonely = ring.addPeer();
  await assert.rejects(lonely.join('nowhere:1'), { code: 'JOIN_FAILED' });
  await assert.rejects(ring.peers[0]!.join(ring.peers[1]!.self.addr), { code: 'JOIN_FAILED' });
  assert.throws(() => ring.peers[0]!.create(), { code: 'NOT_READY' });
});

test('handle: other message types are not ours; not-joined peers answer NOT_READY; bad input is INVALID_REQUEST', async (t) => {
  const ring = await steppedRing(3, t);
  const p = ring.peers[1]!;
  assert.equal(p.handle({ type: 'get', key: new Uint8Array(1) }), undefined);
  await assert.rejects(async () => p.handle({ type: 'notify', peer: { id: new Uint8Array(19), addr: 'x:1' } })!, { code: 'INVALID_REQUEST' });
  await assert.rejects(async () => p.handle({ type: 'notify', peer: { id: p.self.id, addr: '' } })!, { code: 'INVALID_REQUEST' });
  await assert.rejects(async () => p.handle({ type: 'leave', peer: ring.peers[0]!.self, predecessor: null, successors: 'nope' as unknown as PeerRef[] })!,
    { code: 'INVALID_REQUEST' },
  );
  const state = await p.handle({ type: 'getState' })!;
  assert.equal(state.type, 'state');

  const idle = ring.addPeer();
  await assert.rejects(async () => idle.handle({ type: 'ping' })!, { code: 'NOT_READY' });
  await assert.rejects(idle.findSuccessor(p.self.id), { code: 'NOT_READY' });
  p.stop();
  assert.equal(p.status, 'stopped');
  await assert.rejects(async () => p.handle({ type: 'ping' })!, { code: 'NOT_READY' });
});

test('configuration: defaults apply, nonsense is refused', () => {
  const clock = new ManualClock();
  const transport = new MemoryNetwork({ clock }).transport();
  const components = { transport, clock, random: seededRandom(1) };
  assert.equal(CHORD_DEFAULTS.successorListLength, 8);
  assert.throws(() => new ChordPeer(components, { id: new Uint8Array(19), addr: 'a:1' }), { code: 'INVALID_ID' });
  assert.throws(() => new ChordPeer(components, { id: peerIdForAddr('a:1'), addr: '' }), { code: 'INVALID_REQUEST' });
  assert.throws(() => new ChordPeer(components, { id: peerIdForAddr('a:1'), addr: 'a:1', successorListLength: 0 }), { code: 'INVALID_REQUEST' });
  assert.throws(() => new ChordPeer(components, { id: peerIdForAddr('a:1'), addr: 'a:1', stabilizeIntervalMs: 1.5 }), { code: 'INVALID_REQUEST' });
});

test('a lone peer owns everything; start/stop arm and clear exactly the three step timers', async (t) => {
  const clock = new ManualClock();
  const network = new MemoryNetwork({ clock });
  const peer = new ChordPeer({ transport: network.transport(), clock, random: seededRandom(1) }, { id: peerIdForAddr('solo:1'), addr: 'solo:1' });
  t.after(() => peer.stop());
  network.listen('solo:1', (req) => peer.handle(req)!);
  assert.throws(() => peer.start(), { code: 'NOT_READY' });
  peer.create();
  assert.equal(peer.status, 'joined');
  assert.ok(peer.owns(peerIdForAddr('anything')));
  const res = await peer.findSuccessor(peerIdForAddr('anything'));
  assert.deepEqual({ owner: res.owner.addr, successors: res.successors, hops: res.hops }, { owner: 'solo:1', successors: [], hops: 0 });
  assert.deepEqual(peer.fingerPeers().map((p) => p.addr), ['solo:1']);
  peer.start();
  peer.start(); // idempotent
  assert.equal(clock.pending(), 3);
  await clock.advance(5 * CHORD_DEFAULTS.stabilizeIntervalMs);
  assert.equal(clock.pending(), 3, 'each step re-armed once it finished');
  peer.stop();
  assert.equal(clock.pending(), 0);
});

test('timers of a whole ring are all cleared by stop', async (t) => {
  const ring = await makeRing(6, t);
  await ring.clock.advance(4 * ring.periodMs);
  for (const p of ring.peers) p.stop();
  await ring.clock.advance(2 * ring.periodMs); // lets in-flight request timeouts settle
  assert.equal(ring.clock.pending(), 0);
});

