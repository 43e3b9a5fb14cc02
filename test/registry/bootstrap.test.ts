import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RingwireError, hasCode } from '../../src/errors/errors.js';
import { expectReply } from '../../src/protocol/messages.js';
import { idToHex, keyId } from '../../src/ring/index.js';
import { RegistryServer, bootstrapFromRegistry } from '../../src/registry/index.js';
import { Connection } from '../../src/wire/index.js';
import { HOST, deadAddr, registerRaw, startRegistry, startStubPeer } from './helpers.js';

const code = (c: string) => (err: unknown) => hasCode(err, c as ErrorCode);
const me = keyId('the joining peer');

/** A registry whose samples come out in registration order (random() = 0 never swaps). */
async function orderedRegistry(t: Parameters<typeof startRegistry>[0]): Promise<RegistryServer> {
  const registry = new RegistryServer({ random: () => 0 }, {});
  t.after(() => registry.close());
  await registry.listen(HOST, 0);
  return registry;
}

/** A join attempt that only checks the peer answers a ping, like a real join's first step. */
async function pingJoin(addr: string): Promise<void> {
  const conn = await Connection.connect(addr, { self: null, connectTimeoutMs: 500 });
  try {
    expectReply(await conn.request({ type: 'ping' }), 'pong');
  } finally {
    await conn.close();
  }
}

test('an empty registry means a new ring: null, and nobody is tried', async (t) => {
  const registry = await startRegistry(t);
  const calls: string[] = [];
  const result = await bootstrapFromRegistry(registry.addr, me, async (addr) => {
    calls.push(addr);
  });
  assert.equal(result, null);
  assert.deepEqual(calls, []);
});

test('the peer itself is never a bootstrap candidate', async (t) => {
  const registry = await startRegistry(t);
  const self = await startStubPeer(t);
  await registerRaw(t, registry.addr, self.peer);
  const calls: string[] = [];
  const result = await bootstrapFromRegistry(registry.addr, self.peer.id, async (addr) => {
    calls.push(addr);
  });
  assert.equal(result, null);
  assert.deepEqual(calls, []);
});

test('a failed first candidate is skipped and the next one joins', async (t) => {
  const registry = await orderedRegistry(t);
  const [bad, good] = await Promise.all([startStubPeer(t), startStubPeer(t)]);
  await registerRaw(t, registry.addr, bad.peer);
  await registerRaw(t, registry.addr, good.peer);
  const calls: string[] = [];
  const result = await bootstrapFromRegistry(registry.addr, me, async (addr) => {
    calls.push(addr);
    if (addr === bad.addr) throw new RingwireError(ErrorCode.JOIN_FAILED, 'this one refuses');
  });
  assert.deepEqual(calls, [bad.addr, good.addr], 'the failing peer came first in the sample');
  assert.equal(result?.addr, good.addr);
  assert.equal(idToHex(result!.id), idToHex(good.peer.id));
});

test('a peer that died after registering is skipped (its registration connection is still open)', async (t) => {
  const registry = await orderedRegistry(t);
  const [dead, live] = await Promise.all([startStubPeer(t), startStubPeer(t)]);
  await registerRaw(t, registry.addr, dead.peer);
  await registerRaw(t, registry.addr, live.peer);
  await dead.close();
  assert.equal(registry.memberCount(), 2, 'the registry still lists the dead peer');
  const calls: string[] = [];
  const result = await bootstrapFromRegistry(registry.addr, me, async (addr) => {
    calls.push(addr);
    await pingJoin(addr);
  });
  assert.deepEqual(calls, [dead.addr, live.addr]);
  assert.equal(result?.addr, live.addr);
});

test('when every candidate fails the error is JOIN_FAILED naming the last failure', async (t) => {
  const registry = await startRegistry(t);
  const [a, b] = await Promise.all([startStubPeer(t), startStubPeer(t)]);
  await registerRaw(t, registry.addr, a.peer);
  await registerRaw(t, registry.addr, b.peer);
  const calls: string[] = [];
  await assert.rejects(
    bootstrapFromRegistry(registry.addr, me, async (addr) => {
      calls.push(addr);
      throw new RingwireError(ErrorCode.TIMEOUT, `no answer from ${addr}`);
    }),
    (err: unknown) => hasCode(err, ErrorCode.JOIN_FAILED) && /no answer from/.test((err as Error).message),
  );
  assert.deepEqual(calls.sort(), [a.addr, b.addr].sort(), 'each candidate tried exactly once, over all rounds');
});

test('an unreachable registry is reported as such, not as an empty ring', async () => {
  await assert.rejects(
    bootstrapFromRegistry(await deadAddr(), me, async () => {}),
    (err: unknown) => hasCode(err, ErrorCode.UNREACHABLE) && /registry/.test((err as Error).message),
  );
  await assert.rejects(bootstrapFromRegistry('127.0.0.1:1', me, async () => {}, { sampleSize: 0 }), code(ErrorCode.INVALID_REQUEST));
});
