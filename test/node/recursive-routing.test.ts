// Recursive routing over real TCP: lookups and gets pass peer to peer as one-way messages, the
// owner answers a get with its copy (no read round trip), and a crashed peer on the way costs no
// wrong answer. Rings of 20 peers with successor lists of 3, so most keys need routing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingClient } from '../../src/net/client.js';
import { compareIds, idEquals, keyId, successorIndex } from '../../src/ring/index.js';
import type { PeerNode } from '../../src/node/peer-node.js';
import { startTcpRing, waitConsistent } from '../helpers/tcp-ring.js';

/** Requests of `type` the nodes have handled so far, summed. */
function handled(nodes: PeerNode[], type: string): number {
  let n = 0;
  for (const node of nodes) for (const [t, , count] of node.metrics().requests) if (t === type) n += count;
  return n;
}

function trueOwner(nodes: PeerNode[], key: string): PeerNode {
  const sorted = [...nodes].sort((a, b) => compareIds(a.self.id, b.self.id));
  return sorted[successorIndex(sorted.map((n) => ({ id: n.self.id })), keyId(key))]!;
}

test('over TCP, routed gets and lookups are answered straight to the entry peer, the owner reading on the way', async (t) => {
  const nodes = await startTcpRing(20, t, { stabilizeMs: 50, successors: 3 });
  await waitConsistent(nodes, 20_000, 3);
  const client = new RingClient({ requestTimeoutMs: 5000, routeCache: false });
  t.after(() => client.close());
  const keys = Array.from({ length: 200 }, (_, i) => `rk-${i}`);
  await Promise.all(keys.map((k, i) => client.put(nodes[i % nodes.length]!.addr, k, `v-${k}`)));

  const before = { route: handled(nodes, 'routeLookup'), done: handled(nodes, 'routeDone'), read: handled(nodes, 'read'), step: handled(nodes, 'findSuccessor') };
  let routedHops = 0;
  for (const [i, k] of keys.entries()) {
    const got = await client.get(nodes[(i * 7) % nodes.length]!.addr, k);
    assert.ok(got.found, `${k} found`);
    assert.equal(Buffer.from(got.value).toString(), `v-${k}`);
    routedHops += got.hops;
  }
  const routes = handled(nodes, 'routeLookup') - before.route;
  const answers = handled(nodes, 'routeDone') - before.done;
  const reads = handled(nodes, 'read') - before.read;
  t.diagnostic(`200 gets: ${routes} RouteLookups, ${answers} RouteDones, ${reads} reads, ${handled(nodes, 'findSuccessor') - before.step} findSuccessor steps, ${routedHops} hops`);
  assert.ok(answers > 100, `most gets were routed recursively (${answers} answers)`);
  // Maintenance runs meanwhile (its lookups are recursive too), so only bounds: a routed get sends
  // no read, so reads come from the gets answered from the entry's own list.
  assert.ok(reads < answers, `the owners read on the way: ${reads} reads for ${answers} routed answers`);

  for (const k of keys.slice(0, 100)) {
    const res = await client.lookup(nodes[3]!.addr, k);
    assert.ok(idEquals(res.owner.id, trueOwner(nodes, k).self.id), `lookup of ${k}`);
    assert.equal(res.path.length, res.hops, `lookup of ${k} reports its route`);
  }

  // A crash (sockets destroyed, no goodbye): routes through it are passed over or fall back.
  const victim = nodes[5]!;
  victim.crash();
  const live = nodes.filter((n) => n !== victim);
  for (const [i, k] of keys.entries()) {
    const got = await client.get(live[i % live.length]!.addr, k);
    assert.ok(got.found, `${k} found after a crash`);
    assert.equal(Buffer.from(got.value).toString(), `v-${k}`);
  }
});
