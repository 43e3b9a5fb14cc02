// 500 idle connections at once against one live peer of a ring: the per-peer connection limit
// drops the longest-idle ones, so a new client is still served correct lookups and gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { RingClient } from '../../src/net/client.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { idToHex } from '../../src/ring/index.js';
import { TrueRing } from '../../src/host/health.js';
import { encodeFrame, encodeMessage } from '../../src/wire/index.js';
import { eventually } from '../helpers/eventually.js';
import { startTcpRing, waitConsistent } from '../helpers/tcp-ring.js';

const LIMIT = 200;

test('500 idle connections: the peer keeps at most its limit, drops the oldest idle first, and still serves a new client', async (t) => {
  const nodes = await startTcpRing(3, t, { maxIncomingConnections: LIMIT });
  await waitConsistent(nodes);
  const target = nodes[0]!;
  const client = new RingClient({ requestTimeoutMs: 5000 });
  t.after(() => client.close());
  const keys = Array.from({ length: 30 }, (_, i) => `idle-${i}`);
  for (const k of keys) await client.put(nodes[1]!.addr, k, k.toUpperCase());

  // Half of them complete their hello and sit idle; the other half never say anything.
  const [host, port] = [target.addr.split(':')[0]!, Number(target.addr.split(':')[1])];
  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  const hello = encodeFrame(encodeMessage(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null }));
  for (let i = 0; i < 500; i++) {
    const s = connect({ host, port });
    s.on('error', () => undefined);
    s.resume(); // read (and discard) so a close by the server is noticed
    await new Promise<void>((resolve) => s.once('connect', () => resolve()).once('close', () => resolve()));
    if (i % 2 === 0) s.write(hello);
    sockets.push(s);
  }
  await eventually(() => sockets.filter((s) => !s.destroyed && !s.readableEnded).length <= LIMIT, {
    timeoutMs: 10_000,
    what: `at most ${LIMIT} of the 500 idle connections left open`,
  });
  // The survivors are the most recent ones: the first connections went first.
  assert.ok(sockets.slice(0, 100).every((s) => s.destroyed || s.readableEnded), 'the oldest idle connections were dropped');

  const fresh = new RingClient({ requestTimeoutMs: 5000 });
  t.after(() => fresh.close());
  const ring = new TrueRing(nodes.map((n) => idToHex(n.self.id)));
  for (const k of keys) {
    const found = await fresh.lookup(target.addr, k);
    assert.equal(idToHex(found.owner.id), ring.successorOf(found.keyId), `owner of ${k}`);
    const got = await fresh.get(target.addr, k);
    assert.equal(Buffer.from(got.value).toString(), k.toUpperCase());
  }
  await waitConsistent(nodes);
});
