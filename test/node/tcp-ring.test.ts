// Peers over real TCP on 127.0.0.1: the whole stack (wire, chord, store, net) as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingClient } from '../../src/net/client.js';
import { compareIds, idEquals, keyId, betweenRightIncl } from '../../src/ring/index.js';
import { startTcpRing, waitConsistent } from '../helpers/tcp-ring.js';
import { eventually } from '../helpers/eventually.js';

const KEYS = 1000;

test('8 peers over TCP: 1,000 keys readable through every peer, and after two crashes and a leave', async (t) => {
  const nodes = await startTcpRing(8, t, { stabilizeMs: 50 });
  await waitConsistent(nodes);
  const client = new RingClient({ requestTimeoutMs: 5000 });
  t.after(() => client.close());

  const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
  // Writes enter at every peer in turn, 50 in flight at a time.
  for (let i = 0; i < KEYS; i += 50) {
    await Promise.all(
      keys.slice(i, i + 50).map(async (k, j) => {
        const res = await client.put(nodes[(i + j) % nodes.length]!.addr, k, `value-of-${k}`);
        assert.ok(res.copies >= 2, `put ${k} acknowledged with ${res.copies} copies`);
      }),
    );
  }

  const readAll = async (entries: string[], label: string): Promise<void> => {
    for (const via of entries) {
      for (let i = 0; i < KEYS; i += 100) {
        const got = await Promise.all(keys.slice(i, i + 100).map((k) => client.get(via, k)));
        got.forEach((g, j) => {
          const k = keys[i + j]!;
          assert.ok(g.found, `${label}: ${k} not found through ${via}`);
          assert.equal(Buffer.from(g.value).toString(), `value-of-${k}`);
        });
      }
    }
  };
  await readAll(nodes.map((n) => n.addr), 'after put');

  // Each key's owner as the ring's true successor, and lookups agree with it.
  const sorted = [...nodes].sort((a, b) => compareIds(a.self.id, b.self.id));
  let maxHops = 0;
  for (const k of keys.slice(0, 200)) {
    const id = keyId(k);
    const owner = sorted.find((n, i) => betweenRightIncl(sorted[(i - 1 + sorted.length) % sorted.length]!.self.id, id, n.self.id))!;
    const res = await client.lookup(nodes[0]!.addr, k);
    assert.ok(idEquals(res.owner.id, owner.self.id), `lookup of ${k} answered ${res.owner.addr}, owner is ${owner.addr}`);
    // The route is reported: one ring member per hop, never the entry peer itself.
    assert.equal(res.path.length, res.hops, `lookup of ${k}: path ${res.path.map((p) => p.addr)} vs ${res.hops} hops`);
    for (const p of res.path) {
      assert.ok(sorted.some((n) => idEquals(n.self.id, p.id) && n.addr === p.addr), `path entry ${p.addr} is a ring member`);
      assert.notEqual(p.addr, nodes[0]!.addr);
    }
    maxHops = Math.max(maxHops, res.hops);
  }
  assert.ok(maxHops > 0, 'some lookups among 200 keys on this ring needed a remote step');

  // Two crashes (sockets destroyed, no goodbye) at non-adjacent positions, and one graceful leave.
  const crashed = [sorted[1]!, sorted[4]!];
  for (const n of crashed) n.crash();
  const leaver = sorted[6]!;
  await leaver.leave();
  const alive = nodes.filter((n) => !crashed.includes(n) && n !== leaver);
  await waitConsistent(alive);
  // Replicas are repaired in the background; every key must be readable through every survivor.
  await eventually(async () => {
    const res = await Promise.all(keys.map((k) => client.get(alive[0]!.addr, k)));
    const missing = res.filter((r) => !r.found).length;
    if (missing > 0) throw new Error(`${missing} keys missing`);
    return true;
  }, { timeoutMs: 20_000, what: 'every key readable after crashes and a leave' });
  await readAll(alive.map((n) => n.addr), 'after crashes and leave');
});
