import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { ErrorCode, RemoteError, RingwireError } from '../../src/errors/errors.js';
import type { Transport } from '../../src/chord/transport.js';
import type { Response } from '../../src/protocol/messages.js';
import { ConnectionPool } from '../../src/wire/index.js';
import type { PoolComponents, PoolInit } from '../../src/wire/index.js';
import { eventually, within } from './eventually.js';
import { freePort, startServer } from './helpers.js';

const hasCode = (code: string) => (e: unknown) => e instanceof RingwireError && e.code === code;

function makePool(t: TestContext, init: Partial<PoolInit> = {}, components: PoolComponents = {}): ConnectionPool {
  const pool = new ConnectionPool(components, { self: null, ...init });
  t.after(() => pool.close());
  return pool;
}

test('one persistent connection per address is reused, concurrent first requests share the connect', async (t) => {
  const server = await startServer(t);
  const pool = makePool(t);
  const first = await Promise.all(Array.from({ length: 10 }, () => pool.request(server.addr, { type: 'ping' })));
  assert.ok(first.every((r) => r.type === 'pong'));
  for (let i = 0; i < 5; i++) assert.equal((await pool.request(server.addr, { type: 'ping' })).type, 'pong');
  assert.equal(server.served.length, 1);
  assert.deepEqual(pool.stats(), { connects: 1, reconnects: 0, failures: 0, fastFailures: 0, open: 1, evictions: 0 });
});

test('separate addresses get separate connections', async (t) => {
  const a = await startServer(t);
  const b = await startServer(t);
  const pool = makePool(t);
  await pool.request(a.addr, { type: 'ping' });
  await pool.request(b.addr, { type: 'ping' });
  assert.equal(a.served.length + b.served.length, 2);
  assert.equal(pool.stats().open, 2);
});

test('after the server closes the socket, the next request reconnects', async (t) => {
  const server = await startServer(t);
  const pool = makePool(t);
  await pool.request(server.addr, { type: 'ping' });
  server.dropAll();
  await eventually(() => pool.stats().open === 0, { timeoutMs: 2000 });
  assert.equal((await pool.request(server.addr, { type: 'ping' })).type, 'pong');
  assert.equal(server.served.length, 2);
  assert.equal(pool.stats().reconnects, 1);
});

test('a refused connect puts the address in backoff: requests fail fast with UNREACHABLE, then recover', async (t) => {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const pool = makePool(t, { backoff: { baseMs: 300, maxMs: 300, jitter: 'none' } });
  await assert.rejects(pool.request(addr, { type: 'ping' }), hasCode(ErrorCode.UNREACHABLE));
  assert.equal(pool.stats().failures, 1);
  // Within the window: refused at once, without dialling again.
  const started = performance.now();
  await assert.rejects(pool.request(addr, { type: 'ping' }), (e: unknown) => hasCode(ErrorCode.UNREACHABLE)(e) && /backoff/.test((e as Error).message));
  assert.ok(performance.now() - started < 100);
  assert.equal(pool.stats().failures, 1);
  assert.equal(pool.stats().fastFailures, 1);
  // The peer comes back on the same port; once the window passes, requests go through again.
  const server = await startServer(t, {}, port);
  const res = await eventually(() => pool.request(addr, { type: 'ping' }), { timeoutMs: 3000, intervalMs: 25 });
  assert.equal(res.type, 'pong');
  assert.equal(server.served.length, 1);
  assert.equal(pool.stats().connects, 1);
});

test('consecutive failures widen the backoff window; a success resets it', async (t) => {
  let now = 1_000;
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const pool = makePool(t, { backoff: { baseMs: 100, maxMs: 1000, jitter: 'none' } }, { now: () => now });
  const attempt = () => pool.request(addr, { type: 'ping' });
  const fast = () => pool.stats().fastFailures;

  await assert.rejects(attempt(), hasCode(ErrorCode.UNREACHABLE)); // failure 1: window 100 ms
  now += 99;
  await assert.rejects(attempt(), hasCode(ErrorCode.UNREACHABLE));
  assert.equal(fast(), 1);
  now += 1;
  await assert.rejects(attempt(), hasCode(ErrorCode.UNREACHABLE)); // dials again: failure 2, window 200 ms
  assert.equal(pool.stats().failures, 2);
  now += 199;
  await assert.rejects(attempt(), hasCode(ErrorCode.UNREACHABLE));
  assert.equal(fast(), 2);
  now += 1;
  const server = await startServer(t, {}, port);
  assert.equal((await attempt()).type, 'pong');
  // Success resets: after the next drop and a refused connect, the window is back to 100 ms.
  await server.close();
  await eventually(() => pool.stats().open === 0);
  await assert.rejects(attempt(), hasCode(ErrorCode.UNREACHABLE));
  now += 100;
  await assert.rejects(attempt(), hasCode(ErrorCode.UNREACHABLE));
  assert.equal(fast(), 2, 'the window after a reset is baseMs again');
  assert.equal(pool.stats().failures, 4);
});

/** A TCP server that accepts connections and never answers (not even the hello); closed after the test. */
async function silentServer(t: TestContext): Promise<string> {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    silent.close(() => r());
  }));
  const address = silent.address();
  assert.ok(address !== null && typeof address === 'object');
  return `127.0.0.1:${address.port}`;
}

test('a peer that accepts TCP but never says hello costs one connect timeout, then fails fast', async (t) => {
  const addr = await silentServer(t);
  const pool = makePool(t, { connectTimeoutMs: 80 });
  await assert.rejects(pool.request(addr, { type: 'ping' }), hasCode(ErrorCode.TIMEOUT));
  await assert.rejects(pool.request(addr, { type: 'ping' }), hasCode(ErrorCode.UNREACHABLE));
});

test('a request deadline shorter than the connect timeout still bounds the request', async (t) => {
  const addr = await silentServer(t);
  const pool = makePool(t, { connectTimeoutMs: 5000 });
  const started = performance.now();
  await assert.rejects(pool.request(addr, { type: 'ping' }, { timeoutMs: 60 }), hasCode(ErrorCode.TIMEOUT));
  assert.ok(performance.now() - started < 1000);
  // close() aborts the connect still in progress instead of waiting out its 5 s.
  await within(pool.close(), 1000, 'pool.close');
});

test('error replies reach the caller as RemoteError through the pool', async (t) => {
  const server = await startServer(t);
  const pool = makePool(t);
  await assert.rejects(pool.request(server.addr, { type: 'members' }), (e: unknown) => e instanceof RemoteError && e.code === ErrorCode.UNKNOWN_MESSAGE);
  assert.equal(pool.stats().open, 1);
});

test('close() fails pending and later requests with CLOSED', async (t) => {
  const server = await startServer(t, { onRequest: () => new Promise<Response>(() => {}) });
  const pool = new ConnectionPool({}, { self: null });
  await pool.request(server.addr, { type: 'ping' }, { timeoutMs: 50 }).catch(() => undefined); // connects
  const pending = assert.rejects(pool.request(server.addr, { type: 'ping' }, { timeoutMs: 5000 }), hasCode(ErrorCode.CLOSED));
  await pool.close();
  await pending;
  await assert.rejects(pool.request(server.addr, { type: 'ping' }), hasCode(ErrorCode.CLOSED));
  assert.equal(pool.stats().open, 0);
});

test('drop(addr) closes one connection; the next request opens a new one', async (t) => {
  const server = await startServer(t);
  const pool = makePool(t);
  await pool.request(server.addr, { type: 'ping' });
  pool.drop(server.addr);
  assert.equal(pool.stats().open, 0);
  assert.equal((await pool.request(server.addr, { type: 'ping' })).type, 'pong');
  assert.equal(server.served.length, 2);
  assert.equal(pool.stats().reconnects, 1);
});

test('trySend queues a one-way message only on an open connection; send opens one', async (t) => {
  const seen: string[] = [];
  const server = await startServer(t, {
    onRequest: async (req) => {
      seen.push(req.type === 'routeDone' ? `routeDone ${req.token}` : req.type);
      return req.type === 'ping' ? { type: 'pong' } : { type: 'ack' };
    },
  });
  const pool = makePool(t, { maxFrameBytes: 4096 });
  const done = (token: number, nodes = 0) => ({
    type: 'routeDone' as const,
    token,
    nodes: Array.from({ length: nodes }, (_, i) => ({ id: new Uint8Array(20).fill(i), addr: `127.0.0.1:${10000 + i}` })),
    path: [],
  });
  // Nothing open yet: nothing is sent and nothing is dialled.
  assert.equal(pool.trySend(server.addr, done(1)), false);
  assert.equal(pool.stats().connects, 0);
  await pool.send(server.addr, done(2));
  assert.equal(pool.trySend(server.addr, done(3)), true);
  // Too large for the frame limit: thrown at once, nothing queued, the connection stays.
  assert.throws(() => pool.trySend(server.addr, done(4, 200)), hasCode(ErrorCode.FRAME_TOO_LARGE));
  assert.equal((await pool.request(server.addr, { type: 'ping' })).type, 'pong');
  assert.deepEqual(seen, ['routeDone 2', 'routeDone 3', 'ping']);
  await pool.close();
  assert.equal(pool.trySend(server.addr, done(5)), false);
});

test('a pool is a chord Transport (checked by the compiler)', (t) => {
  const transport: Transport = makePool(t);
  assert.equal(typeof transport.request, 'function');
});

test('maxConnections closes the least recently used idle connection; idle ones close after idleTimeoutMs', async (t) => {
  const servers = await Promise.all([startServer(t), startServer(t), startServer(t)]);
  const pool = makePool(t, { maxConnections: 2, idleTimeoutMs: 200 });
  await pool.request(servers[0]!.addr, { type: 'ping' });
  await pool.request(servers[1]!.addr, { type: 'ping' });
  await pool.request(servers[0]!.addr, { type: 'ping' }); // servers[1] is now the least recently used
  await pool.request(servers[2]!.addr, { type: 'ping' });
  assert.equal(pool.stats().open, 2);
  assert.equal(pool.stats().evictions, 1);
  // The evicted address reconnects on demand, evicting the next least recently used one.
  assert.equal((await pool.request(servers[1]!.addr, { type: 'ping' })).type, 'pong');
  assert.equal(pool.stats().open, 2);
  assert.equal(pool.stats().reconnects, 1);
  // Nothing used for idleTimeoutMs: the sweep closes everything.
  await eventually(() => pool.stats().open === 0, { timeoutMs: 5000 });
});
