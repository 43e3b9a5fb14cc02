// Registry faults with real peers: the registry is only for discovery, so while it is down the
// ring keeps serving and peers still join through --join; when it comes back on the same address
// every running peer registers again by itself; an address nobody serves is never handed out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { PeerNode } from '../../src/node/peer-node.js';
import { RingClient } from '../../src/net/client.js';
import { keyId } from '../../src/ring/index.js';
import { RegistryServer } from '../../src/registry/registry-server.js';
import { peersOf, queryRegistryOnce } from '../../src/registry/registry-query.js';
import { eventually } from '../helpers/eventually.js';
import { waitConsistent } from '../helpers/tcp-ring.js';
import { HOST, deadAddr, rawConnection } from '../registry/helpers.js';

test('registry down: the ring keeps working and --join still works; restarted: peers re-register by themselves', async (t) => {
  const first = new RegistryServer({}, {});
  const port = await first.listen(HOST, 0);
  const registryAddr = `${HOST}:${port}`;
  t.after(() => first.close());
  const nodes: PeerNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (let i = 0; i < 4; i++) nodes.push(await PeerNode.start({}, { port: 0, registry: registryAddr, stabilizeMs: 50 }));
  await waitConsistent(nodes);
  await eventually(() => first.memberCount() === 4, { what: 'four peers registered' });
  const client = new RingClient({ requestTimeoutMs: 3000 });
  t.after(() => client.close());
  await client.put(nodes[0]!.addr, 'before', '1');

  await first.close();
  // Down: reads, writes and lookups carry on; a new peer joins through a member.
  await client.put(nodes[1]!.addr, 'during', '2');
  assert.equal(Buffer.from((await client.get(nodes[2]!.addr, 'before')).value).toString(), '1');
  nodes.push(await PeerNode.start({}, { port: 0, join: nodes[3]!.addr, stabilizeMs: 50 }));
  await waitConsistent(nodes);
  assert.equal(Buffer.from((await client.get(nodes[4]!.addr, 'during')).value).toString(), '2');
  // A peer told to bootstrap through the dead registry says so, rather than starting a ring alone.
  await assert.rejects(
    PeerNode.start({}, { port: 0, registry: registryAddr, stabilizeMs: 50 }),
    (e: unknown) => e instanceof RingwireError && e.code === ErrorCode.UNREACHABLE && e.message.includes(registryAddr),
  );

  // Back on the same address: the four registered peers find it again without being told.
  const second = new RegistryServer({}, {});
  t.after(() => second.close());
  await second.listen(HOST, port);
  await eventually(() => second.memberCount() === 4, { timeoutMs: 15_000, what: 'the four registered peers re-registered' });
  const sample = peersOf(await queryRegistryOnce(registryAddr, { type: 'sample', count: 10 }));
  assert.deepEqual(sample.map((p) => p.addr).sort(), nodes.slice(0, 4).map((n) => n.addr).sort());
  // And a new peer bootstraps through it into the same ring.
  nodes.push(await PeerNode.start({}, { port: 0, registry: registryAddr, stabilizeMs: 50 }));
  await waitConsistent(nodes);
});

test('a registration for an address nobody listens on is refused and never handed out', async (t) => {
  const registry = new RegistryServer({}, {});
  const port = await registry.listen(HOST, 0);
  t.after(() => registry.close());
  const registryAddr = `${HOST}:${port}`;
  const live = await PeerNode.start({}, { port: 0, registry: registryAddr, stabilizeMs: 50 });
  t.after(() => live.close());
  const liar = await rawConnection(t, registryAddr);
  await assert.rejects(
    liar.request({ type: 'register', peer: { id: keyId('liar'), addr: await deadAddr() } }),
    (e: unknown) => e instanceof RingwireError && e.code === ErrorCode.UNREACHABLE,
  );
  for (let i = 0; i < 5; i++) {
    const sample = peersOf(await queryRegistryOnce(registryAddr, { type: 'sample', count: 10 }));
    assert.deepEqual(sample.map((p) => p.addr), [live.addr]);
  }
});
