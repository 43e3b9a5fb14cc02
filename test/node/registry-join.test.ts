// `chord node --registry` as the node layer runs it: bootstrap through the registry's sample even
// when that sample names a dead peer, stay registered, deregister on leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerNode } from '../../src/node/peer-node.js';
import { RingClient } from '../../src/net/client.js';
import { idEquals } from '../../src/ring/index.js';
import { registerRaw, startRegistry, startStubPeer } from '../registry/helpers.js';
import { eventually } from '../helpers/eventually.js';
import { waitConsistent } from '../helpers/tcp-ring.js';

test('a node bootstraps through the registry while the sample it gets contains a dead peer', async (t) => {
  const registry = await startRegistry(t, { heartbeatTimeoutMs: 60_000 });
  const nodes: PeerNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));

  // The first peer finds an empty registry: it creates the ring and registers.
  nodes.push(await PeerNode.start({}, { port: 0, registry: registry.addr, stabilizeMs: 50 }));
  await eventually(() => registry.memberCount() === 1, { what: 'first peer registered' });

  // A "peer" that registered while it answered pings, then died with its registry connection still
  // open: the registry keeps handing it out, since nothing told it otherwise.
  const ghost = await startStubPeer(t);
  await registerRaw(t, registry.addr, ghost.peer);
  await ghost.close();
  assert.equal(registry.memberCount(), 2);

  // Every sample now holds both: the ghost is tried and skipped, the live peer is joined.
  for (let i = 0; i < 3; i++) nodes.push(await PeerNode.start({}, { port: 0, registry: registry.addr, stabilizeMs: 50 }));
  await waitConsistent(nodes);
  await eventually(() => registry.memberCount() === 5, { what: 'all four peers registered' });

  const client = new RingClient();
  t.after(() => client.close());
  await client.put(nodes[3]!.addr, 'through-the-registry', 'yes');
  assert.equal(Buffer.from((await client.get(nodes[1]!.addr, 'through-the-registry')).value).toString(), 'yes');

  // A graceful leave deregisters.
  const leaver = nodes.pop()!;
  await leaver.leave();
  await eventually(() => !registry.members().some((m) => idEquals(m.id, leaver.self.id)), { what: 'leaver deregistered' });
  assert.equal(registry.memberCount(), 4);
});
