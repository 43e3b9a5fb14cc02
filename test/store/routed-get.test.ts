/**
 * Gets over recursive routing (simulator with one-way messages): the owner reads the key when the
 * lookup reaches it and sends its copy with the answer, so a routed get needs no read round trip,
 * and gets stay correct when the owner lacks the key or is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectReply } from '../../src/protocol/messages.js';
import { enc, dec, makeSimRing, putMany, names } from './sim-ring-helpers.js';
import { settleWithClock } from '../helpers/manual-time.js';


const sent = (ring: { network: { sent: Map<string, number> } }, type: string): number => ring.network.sent.get(type) ?? 0;

test('a routed get brings the owner\'s copy back with the answer: no read request', async (t) => {
  const ring = await makeSimRing(t, 24, 21, { oneWay: true, routeCache: false });
  const acked = await putMany(ring, names('g', 200));
  let routed = 0;
  let hops = 0;
  for (const [k] of acked) {
    const entry = ring.peers[Math.floor(ring.random() * ring.peers.length)]!;
    const reads = sent(ring, 'read');
    const routes = sent(ring, 'routeLookup');
    const res = expectReply(await entry.handler({ type: 'get', key: enc.encode(k) }), 'getReply');
    assert.equal(res.found, true, k);
    assert.equal(dec.decode(res.value), `v:${k}`);
    hops += res.hops;
    if (sent(ring, 'routeLookup') === routes) continue; // answered from the entry's own list
    routed++;
    assert.equal(sent(ring, 'read') - reads, 0, `${k}: the owner's copy came with the answer`);
  }
  assert.ok(routed > 100, `most gets were routed (${routed})`);
  t.diagnostic(`${routed} routed gets of ${acked.size}, mean hops ${(hops / acked.size).toFixed(2)}`);
});

test('routed gets stay right when owners crash: the replicas answer', async (t) => {
  const ring = await makeSimRing(t, 16, 22, { oneWay: true, routeCache: false });
  const acked = await putMany(ring, names('c', 150));
  const victims = [ring.live()[3]!, ring.live()[9]!];
  for (const v of victims) {
    v.crash();
    ring.gone.add(v.addr);
  }
  const entry = ring.live()[0]!;
  for (const [k] of acked) {
    const res = expectReply((await settleWithClock(ring.clock, Promise.resolve(entry.handler({ type: 'get', key: enc.encode(k) })), 30_000)).value, 'getReply');
    assert.equal(res.found, true, `${k} survives its owner's crash`);
    assert.equal(dec.decode(res.value), `v:${k}`);
  }
  const missing = expectReply((await settleWithClock(ring.clock, Promise.resolve(entry.handler({ type: 'get', key: enc.encode('never-written') })), 30_000)).value, 'getReply');
  assert.equal(missing.found, false);
});
