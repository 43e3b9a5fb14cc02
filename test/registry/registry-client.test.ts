import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type Clock, type TimerHandle } from '../../src/chord/clock.js';
import { ErrorCode, hasCode } from '../../src/errors/errors.js';
import { RegistryClient, RegistryServer, type RegistryClientInit } from '../../src/registry/index.js';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { seededRandom } from '../../src/sim/random.js';
import { eventually } from '../helpers/eventually.js';
import { HOST, addrsOf, deadAddr, startRegistry, startStubPeer } from './helpers.js';

const code = (c: string) => (err: unknown) => hasCode(err, c as ErrorCode);

/** A client with test-sized timings, stopped after the test. */
function makeClient(t: { after(fn: () => Promise<void>): void }, init: RegistryClientInit, clock?: Clock): RegistryClient {
  const client = new RegistryClient(
    { random: seededRandom(5), clock },
    { heartbeatMs: 50, backoff: { baseMs: 20, maxMs: 200 }, requestTimeoutMs: 1000, ...init },
  );
  t.after(() => client.stop({ deregister: false }));
  return client;
}

/** The system clock, counting the timers set through it (to wait for N expiry checks). */
function countingClock(): Clock & { timers: number } {
  const c = {
    timers: 0,
    now: () => systemClock.now(),
    setTimeout(fn: () => void, ms: number): TimerHandle {
      c.timers++;
      return systemClock.setTimeout(fn, ms);
    },
    clearTimeout: (h: TimerHandle) => systemClock.clearTimeout(h),
  };
  return c;
}

test('start registers; heartbeats keep the registration across several expiry timeouts', async (t) => {
  const clock = countingClock();
  const registry = await startRegistry(t, { heartbeatTimeoutMs: 300 }, { clock });
  const a = await startStubPeer(t);
  const client = makeClient(t, { registry: registry.addr, self: a.peer });
  const registered: number[] = [];
  client.on('registered', (n) => registered.push(n));
  await client.start();
  assert.equal(client.connected, true);
  assert.deepEqual(addrsOf(registry.members()), [a.addr]);
  assert.deepEqual(registered, [1]);

  // The registry checks for silent connections every 75 ms: let it check for 3 timeouts' worth.
  const start = clock.timers;
  await eventually(() => clock.timers - start >= 12, { timeoutMs: 5000, what: '12 expiry checks' });
  assert.deepEqual(addrsOf(registry.members()), [a.addr]);
  assert.equal(client.registrations, 1, 'never dropped, never re-registered');
  assert.equal(client.connected, true);
});

test('start rejects clearly when the registry is down or cannot reach our address', async (t) => {
  const a = await startStubPeer(t);
  const down = makeClient(t, { registry: await deadAddr(), self: a.peer });
  await assert.rejects(down.start(), (err: unknown) => hasCode(err, ErrorCode.UNREACHABLE) && /registry/.test((err as Error).message));
  assert.equal(down.connected, false);
  await assert.rejects(down.start(), code(ErrorCode.CLOSED));

  const registry = await startRegistry(t);
  const ghost = { id: a.peer.id, addr: await deadAddr() };
  const unreachable = makeClient(t, { registry: registry.addr, self: ghost });
  await assert.rejects(unreachable.start(), code(ErrorCode.UNREACHABLE));
  assert.equal(registry.memberCount(), 0);
  await eventually(() => registry.connectionCount() === 0, { timeoutMs: 2000, what: 'failed client hung up' });
});

test('stop with deregister removes the peer before it resolves; without, the closed connection does', async (t) => {
  const registry = await startRegistry(t);
  const a = await startStubPeer(t);
  const b = await startStubPeer(t);
  const leaving = makeClient(t, { registry: registry.addr, self: a.peer });
  const crashing = makeClient(t, { registry: registry.addr, self: b.peer });
  await leaving.start();
  await crashing.start();
  assert.equal(registry.memberCount(), 2);

  await leaving.stop({ deregister: true });
  assert.deepEqual(addrsOf(registry.members()), [b.addr]);
  assert.equal(leaving.connected, false);

  await crashing.stop({ deregister: false });
  await eventually(() => registry.memberCount() === 0, { timeoutMs: 2000, what: 'closed peer removed' });
});

test('the client re-registers by itself after the registry restarts on the same port', async (t) => {
  const first = new RegistryServer({}, { heartbeatTimeoutMs: 300 });
  const port = await first.listen(HOST, 0);
  t.after(() => first.close());
  const a = await startStubPeer(t);
  const client = makeClient(t, { registry: `${HOST}:${port}`, self: a.peer });
  let disconnects = 0;
  client.on('disconnected', () => disconnects++);
  await client.start();

  await first.close();
  await eventually(() => !client.connected && disconnects === 1, { timeoutMs: 2000, what: 'client noticed the registry went away' });

  const second = new RegistryServer({}, { heartbeatTimeoutMs: 300 });
  t.after(() => second.close());
  await second.listen(HOST, port);
  await eventually(() => second.memberCount() === 1 && client.connected, { timeoutMs: 5000, what: 're-registered with the new registry' });
  assert.deepEqual(addrsOf(second.members()), [a.addr]);
  assert.ok(client.registrations >= 2);
});

test('a client the registry expired (it stopped hearing pings) registers again', async (t) => {
  const clock = new ManualClock();
  const registry = await startRegistry(t, { heartbeatTimeoutMs: 300 }, { clock });
  const a = await startStubPeer(t);
  const client = makeClient(t, { registry: registry.addr, self: a.peer });
  await client.start();
  // On the registry's frozen clock no ping counts as recent once time jumps: the connection expires.
  await clock.advance(400);
  await eventually(() => client.registrations === 2 && registry.memberCount() === 1, { timeoutMs: 5000, what: 're-registered' });
  assert.equal(client.connected, true);
});

test('sample and members work before start (one-shot) and while registered', async (t) => {
  const registry = await startRegistry(t);
  const [a, b] = await Promise.all([startStubPeer(t), startStubPeer(t)]);
  const other = makeClient(t, { registry: registry.addr, self: b.peer });
  await other.start();
  const client = makeClient(t, { registry: registry.addr, self: a.peer });
  assert.deepEqual(addrsOf(await client.sample(5)), [b.addr]);
  assert.deepEqual(addrsOf(await client.members()), [b.addr]);
  await client.start();
  assert.deepEqual(addrsOf(await client.members()), [a.addr, b.addr].sort());
  assert.deepEqual(addrsOf(await client.sample(1)).length, 1);
  assert.equal(registry.connectionCount(), 2, 'queries while registered reuse the registration connection');
});

test('stop clears every timer, also while reconnecting', async (t) => {
  const clock = new ManualClock();
  const registry = await startRegistry(t);
  const a = await startStubPeer(t);
  const client = makeClient(t, { registry: registry.addr, self: a.peer }, clock);
  await client.start();
  assert.equal(clock.pending(), 1, 'one heartbeat scheduled');
  await clock.advance(50);
  // The ping goes over real TCP; the next one is scheduled when its pong is back.
  await eventually(() => clock.pending() === 1, { timeoutMs: 2000, what: 'next heartbeat scheduled' });

  await registry.close();
  await eventually(() => !client.connected && clock.pending() === 1, { timeoutMs: 2000, what: 'reconnect scheduled' });
  await client.stop({ deregister: true });
  assert.equal(clock.pending(), 0);
  assert.equal(client.connected, false);
});

test('bad options are refused up front', () => {
  const self = { id: new Uint8Array(20), addr: '127.0.0.1:4000' };
  assert.throws(() => new RegistryClient({}, { registry: 'nope', self }), code(ErrorCode.INVALID_REQUEST));
  assert.throws(() => new RegistryClient({}, { registry: '127.0.0.1:1', self: { id: new Uint8Array(3), addr: self.addr } }), code(ErrorCode.INVALID_REQUEST));
  assert.throws(() => new RegistryClient({}, { registry: '127.0.0.1:1', self, heartbeatMs: 0 }), code(ErrorCode.INVALID_REQUEST));
});
