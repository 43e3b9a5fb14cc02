import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RingwireError, hasCode } from '../../src/errors/errors.js';
import { expectReply, type PeerRef } from '../../src/protocol/messages.js';
import { compareIds, idToHex, keyId } from '../../src/ring/index.js';
import { RegistryServer } from '../../src/registry/index.js';
import { peersOf } from '../../src/registry/registry-query.js';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { eventually } from '../helpers/eventually.js';
import { HOST, addrsOf, rawConnection, registerRaw, startRegistry, startStubPeer } from './helpers.js';

const code = (c: string) => (err: unknown) => hasCode(err, c as ErrorCode);

test('a peer registers and shows up in members and samples', async (t) => {
  const registry = await startRegistry(t);
  const a = await startStubPeer(t);
  await registerRaw(t, registry.addr, a.peer);
  assert.equal(registry.memberCount(), 1);
  assert.deepEqual(addrsOf(registry.members()), [a.addr]);
  assert.equal(idToHex(registry.members()[0]!.id), idToHex(a.peer.id));

  const asker = await rawConnection(t, registry.addr);
  assert.deepEqual(addrsOf(peersOf(await asker.request({ type: 'members' }))), [a.addr]);
  assert.deepEqual(addrsOf(peersOf(await asker.request({ type: 'sample', count: 5 }))), [a.addr]);
});

test('a peer is removed when its registration connection closes', async (t) => {
  const registry = await startRegistry(t);
  const a = await startStubPeer(t);
  const b = await startStubPeer(t);
  const connA = await registerRaw(t, registry.addr, a.peer);
  await registerRaw(t, registry.addr, b.peer);
  assert.equal(registry.memberCount(), 2);
  await connA.close();
  await eventually(() => registry.memberCount() === 1, { timeoutMs: 2000, what: 'closed peer removed' });
  assert.deepEqual(addrsOf(registry.members()), [b.addr]);
});

test('deregister removes at once, but only from the connection that holds the registration', async (t) => {
  const registry = await startRegistry(t);
  const a = await startStubPeer(t);
  const conn = await registerRaw(t, registry.addr, a.peer);
  const other = await rawConnection(t, registry.addr);
  expectReply(await other.request({ type: 'deregister', peer: a.peer }), 'ack');
  assert.equal(registry.memberCount(), 1, 'a stranger cannot deregister someone else');
  expectReply(await conn.request({ type: 'deregister', peer: a.peer }), 'ack');
  assert.equal(registry.memberCount(), 0);
  // The connection stays usable after a goodbye.
  expectReply(await conn.request({ type: 'ping' }), 'pong');
});

test('a registration expires when its connection misses heartbeats (manual clock)', async (t) => {
  const clock = new ManualClock();
  const registry = await startRegistry(t, { heartbeatTimeoutMs: 300 }, { clock });
  const silent = await startStubPeer(t);
  const pinging = await startStubPeer(t);
  const silentConn = await registerRaw(t, registry.addr, silent.peer);
  const pingingConn = await registerRaw(t, registry.addr, pinging.peer);

  await clock.advance(200);
  assert.equal(registry.memberCount(), 2, 'nobody expires before the timeout');
  expectReply(await pingingConn.request({ type: 'ping' }), 'pong');
  await clock.advance(150);

  assert.deepEqual(addrsOf(registry.members()), [pinging.addr]);
  await silentConn.closed; // the registry hangs up on the silent connection, so its client can notice
  assert.equal(silentConn.isOpen, false);
  assert.equal(pingingConn.isOpen, true);
});

test('sample hands out live peers only: never closed, expired or unreachable ones', async (t) => {
  const clock = new ManualClock();
  const registry = await startRegistry(t, { heartbeatTimeoutMs: 300 }, { clock });
  const [live, closed, expired, dead] = await Promise.all([startStubPeer(t), startStubPeer(t), startStubPeer(t), startStubPeer(t)]);
  const liveConn = await registerRaw(t, registry.addr, live.peer);
  const closedConn = await registerRaw(t, registry.addr, closed.peer);
  await registerRaw(t, registry.addr, expired.peer);

  await dead.close();
  const deadConn = await rawConnection(t, registry.addr);
  await assert.rejects(deadConn.request({ type: 'register', peer: dead.peer }), code(ErrorCode.UNREACHABLE));
  // Whatever id claims it, an address nobody serves is never accepted.
  const wrongAddr: PeerRef = { id: keyId('liar'), addr: dead.addr };
  await assert.rejects(deadConn.request({ type: 'register', peer: wrongAddr }), code(ErrorCode.UNREACHABLE));

  await closedConn.close();
  await eventually(() => registry.memberCount() === 2, { timeoutMs: 2000, what: 'closed peer removed' });
  await clock.advance(200);
  expectReply(await liveConn.request({ type: 'ping' }), 'pong');
  await clock.advance(150);
  assert.equal(registry.memberCount(), 1);

  const asker = await rawConnection(t, registry.addr);
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(addrsOf(peersOf(await asker.request({ type: 'sample', count: 10 }))), [live.addr]);
  }
});

test('re-registering an id from a new connection replaces the old entry', async (t) => {
  const registry = await startRegistry(t);
  const a = await startStubPeer(t);
  const b = await startStubPeer(t);
  const first = await registerRaw(t, registry.addr, a.peer);
  // Same id, new connection and a new address (the peer restarted elsewhere).
  const moved: PeerRef = { id: a.peer.id, addr: b.addr };
  await registerRaw(t, registry.addr, moved);
  assert.deepEqual(addrsOf(registry.members()), [b.addr]);

  await first.close();
  await eventually(() => registry.connectionCount() === 1, { timeoutMs: 2000, what: 'old connection gone' });
  assert.deepEqual(addrsOf(registry.members()), [b.addr], 'the old connection closing does not remove the new entry');
});

test('samples are distinct and capped; members are sorted by id', async (t) => {
  const registry = await startRegistry(t);
  const stub = await startStubPeer(t);
  const conn = await rawConnection(t, registry.addr);
  // Many ids behind one live address: enough members to hit the cap without 70 servers.
  for (let i = 0; i < 70; i++) {
    expectReply(await conn.request({ type: 'register', peer: { id: keyId(`peer-${i}`), addr: stub.addr } }), 'ack');
  }
  assert.equal(registry.memberCount(), 70);
  const sample = peersOf(await conn.request({ type: 'sample', count: 1000 }));
  assert.equal(sample.length, 64);
  assert.equal(new Set(sample.map((p) => idToHex(p.id))).size, 64);
  assert.equal(peersOf(await conn.request({ type: 'sample', count: 3 })).length, 3);
  assert.equal(peersOf(await conn.request({ type: 'sample', count: 0 })).length, 0);
  const members = peersOf(await conn.request({ type: 'members' }));
  assert.equal(members.length, 70);
  for (let i = 1; i < members.length; i++) assert.equal(compareIds(members[i - 1]!.id, members[i]!.id), -1);
});

test('bad registrations are refused with INVALID_REQUEST and the connection stays up', async (t) => {
  const registry = await startRegistry(t);
  const conn = await rawConnection(t, registry.addr);
  const bad: PeerRef[] = [
    { id: new Uint8Array(19), addr: '127.0.0.1:4000' },
    { id: keyId('x'), addr: 'no-port' },
    { id: keyId('x'), addr: '127.0.0.1:0' },
    { id: keyId('x'), addr: '127.0.0.1:70000' },
    { id: keyId('x'), addr: '' },
  ];
  for (const peer of bad) {
    await assert.rejects(conn.request({ type: 'register', peer }), code(ErrorCode.INVALID_REQUEST), peer.addr);
  }
  await assert.rejects(conn.request({ type: 'deregister', peer: { id: new Uint8Array(3), addr: '127.0.0.1:1' } }), code(ErrorCode.INVALID_REQUEST));
  await assert.rejects(conn.request({ type: 'getState' }), (err: RingwireError) => err.code === ErrorCode.UNKNOWN_MESSAGE && /send it to a peer/.test(err.message));
  expectReply(await conn.request({ type: 'ping' }), 'pong');
  assert.equal(registry.memberCount(), 0);
});

test('lifecycle: addr before listen, port in use, close is idempotent and drops clients', async (t) => {
  const fresh = new RegistryServer({}, {});
  assert.throws(() => fresh.addr, code(ErrorCode.NOT_READY));
  await fresh.close();

  const registry = await startRegistry(t);
  const port = Number(registry.addr.split(':')[1]);
  const clash = new RegistryServer({}, {});
  await assert.rejects(clash.listen(HOST, port), code(ErrorCode.UNREACHABLE));
  await clash.close();

  const a = await startStubPeer(t);
  const conn = await registerRaw(t, registry.addr, a.peer);
  await registry.close();
  await registry.close();
  await conn.closed;
  assert.equal(registry.memberCount(), 0);
  await assert.rejects(registry.listen(HOST, 0), code(ErrorCode.CLOSED));
});
