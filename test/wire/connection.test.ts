import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RemoteError, RingwireError } from '../../src/errors/errors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import type { PeerRef, Request, Response } from '../../src/protocol/messages.js';
import { peerIdForAddr } from '../../src/ring/index.js';
import { Connection, remoteErrorOf } from '../../src/wire/index.js';
import type { ConnectInit } from '../../src/wire/index.js';
import { eventually, within } from './eventually.js';
import { deferred, freePort, pingOnly, startServer } from './helpers.js';
import type { TestContext } from 'node:test';

const hasCode = (code: string) => (e: unknown) => e instanceof RingwireError && e.code === code;
const self: PeerRef = { id: peerIdForAddr('127.0.0.1:9999'), addr: '127.0.0.1:9999' };

async function connect(t: TestContext, addr: string, init: Partial<ConnectInit> = {}): Promise<Connection> {
  const conn = await Connection.connect(addr, { self, ...init });
  t.after(() => conn.close());
  return conn;
}

test('connect exchanges hellos: the server sees our peer, we see its peer', async (t) => {
  let seen: PeerRef | null = null;
  const server = await startServer(t, {
    onRequest: async (req, ctx) => {
      seen = ctx.peer;
      return pingOnly(req);
    },
  });
  const conn = await connect(t, server.addr);
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
  assert.equal(conn.remotePeer?.addr, server.addr);
  assert.deepEqual([...conn.remotePeer!.id], [...server.peer.id]);
  assert.equal(seen!.addr, self.addr);
});

test('many requests in flight on one connection, answered out of order, each get their own answer', async (t) => {
  const n = 40;
  const held: Array<{ key: number; answer: (r: Response) => void }> = [];
  const allIn = deferred<void>();
  const server = await startServer(t, {
    onRequest: (req) =>
      new Promise<Response>((resolve) => {
        assert.equal(req.type, 'get');
        if (req.type !== 'get') return;
        held.push({ key: req.key[0]!, answer: resolve });
        if (held.length === n) allIn.resolve();
      }),
  });
  const conn = await connect(t, server.addr);
  const answers = Array.from({ length: n }, (_, i) => conn.request({ type: 'get', key: Uint8Array.of(i) }));
  await within(allIn.promise, 2000, 'all requests reach the server');
  assert.equal(conn.pendingCount, n);
  assert.equal(server.served[0]!.inFlight, n);
  // Answer in reverse arrival order: only the ids can match them up.
  for (const h of held.reverse()) h.answer({ type: 'getReply', found: true, value: Uint8Array.of(h.key, h.key), version: h.key, hops: 0 });
  const got = await Promise.all(answers);
  got.forEach((res, i) => {
    assert.equal(res.type, 'getReply');
    if (res.type === 'getReply') {
      assert.deepEqual([...res.value], [i, i]);
      assert.equal(res.version, i);
    }
  });
  assert.equal(server.sockets.size, 1);
});

test('requests issued in the same tick leave in one write', async (t) => {
  let first = true;
  const server = await startServer(t);
  const conn = await connect(t, server.addr);
  const socket = [...server.sockets][0]!;
  let chunks = 0;
  const arrived = deferred<void>();
  let bytes = 0;
  socket.on('data', (c: Buffer) => {
    chunks++;
    bytes += c.length;
    if (first && bytes >= 50 * 6) {
      first = false;
      arrived.resolve();
    }
  });
  const all = Array.from({ length: 50 }, () => conn.request({ type: 'ping' }));
  await within(arrived.promise, 2000, 'pings arrive');
  await Promise.all(all);
  assert.equal(chunks, 1);
});

test('a request with no answer times out with TIMEOUT, and its late answer is dropped quietly', async (t) => {
  const release = deferred<void>();
  const server = await startServer(t, {
    onRequest: async (req) => {
      if (req.type === 'get') {
        await release.promise;
        return { type: 'getReply', found: false, value: new Uint8Array(0), version: 0, hops: 0 };
      }
      return pingOnly(req);
    },
  });
  const conn = await connect(t, server.addr);
  const started = performance.now();
  await assert.rejects(conn.request({ type: 'get', key: Uint8Array.of(1) }, { timeoutMs: 60 }), hasCode(ErrorCode.TIMEOUT));
  assert.ok(performance.now() - started < 1000);
  assert.equal(conn.pendingCount, 0);
  release.resolve();
  // The late getReply arrives while the ping waits; the ping still gets its pong.
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
  assert.ok(conn.isOpen);
});

test('timeouts of different lengths on one connection: each request fails at its own deadline, answered ones never', async (t) => {
  // A short timeout issued after a long one must not wait for it, and the long one must not be
  // failed early.
  const holdGets: Array<(r: Response) => void> = [];
  const server = await startServer(t, {
    onRequest: (req) => {
      if (req.type === 'get') return new Promise<Response>((resolve) => holdGets.push(resolve));
      return pingOnly(req);
    },
  });
  const conn = await connect(t, server.addr);
  const long = conn.request({ type: 'get', key: Uint8Array.of(1) }, { timeoutMs: 30_000 });
  let longSettled = false;
  long.then(() => (longSettled = true), () => (longSettled = true));
  // Answered well before its deadline: resolves, whatever the other requests' deadlines.
  assert.equal((await conn.request({ type: 'ping' }, { timeoutMs: 40 })).type, 'pong');
  const started = performance.now();
  await assert.rejects(conn.request({ type: 'get', key: Uint8Array.of(2) }, { timeoutMs: 80 }), (e: unknown) => {
    assert.ok(e instanceof RingwireError && e.code === ErrorCode.TIMEOUT, String(e));
    assert.match(e.message, /get within 80 ms/);
    return true;
  });
  const waited = performance.now() - started;
  assert.ok(waited >= 75 && waited < 5000, `the 80 ms timeout fired after ${waited.toFixed(0)} ms`);
  // A second short one, after the first expired, fails on time too.
  await assert.rejects(conn.request({ type: 'get', key: Uint8Array.of(3) }, { timeoutMs: 50 }), hasCode(ErrorCode.TIMEOUT));
  assert.equal(longSettled, false);
  assert.equal(conn.pendingCount, 1);
  // The long request is still waiting, and its answer still reaches it.
  await eventually(() => holdGets.length === 3, { timeoutMs: 2000 });
  holdGets[0]!({ type: 'getReply', found: true, value: Uint8Array.of(7), version: 1, hops: 0 });
  const res = await long;
  assert.equal(res.type === 'getReply' && res.value[0], 7);
  assert.equal(conn.pendingCount, 0);
});

test('when the connection drops, every pending request rejects with CONNECTION_LOST', async (t) => {
  const arrived = deferred<void>();
  let count = 0;
  const server = await startServer(t, {
    onRequest: () => {
      if (++count === 3) arrived.resolve();
      return new Promise<Response>(() => {});
    },
  });
  const conn = await connect(t, server.addr);
  const pending = [1, 2, 3].map(() => conn.request({ type: 'ping' }, { timeoutMs: 5000 }));
  await within(arrived.promise, 2000, 'requests arrive');
  server.dropAll();
  for (const p of pending) await assert.rejects(p, hasCode(ErrorCode.CONNECTION_LOST));
  await within(conn.closed, 2000, 'closed resolves');
  assert.equal(conn.isOpen, false);
  await assert.rejects(conn.request({ type: 'ping' }), hasCode(ErrorCode.CONNECTION_LOST));
});

test('close() rejects pending requests with CLOSED and later ones too', async (t) => {
  const server = await startServer(t, { onRequest: () => new Promise<Response>(() => {}) });
  const conn = await Connection.connect(server.addr, { self: null });
  const pending = assert.rejects(conn.request({ type: 'ping' }, { timeoutMs: 5000 }), hasCode(ErrorCode.CLOSED));
  await conn.close();
  await pending;
  await assert.rejects(conn.request({ type: 'ping' }), hasCode(ErrorCode.CLOSED));
});

test('a server speaking another version gives VERSION_MISMATCH naming both versions', async (t) => {
  const server = await startServer(t, { onHello: () => ({ type: 'helloAck', version: PROTOCOL_VERSION + 98, peer: null }) });
  await assert.rejects(Connection.connect(server.addr, { self }), (e: unknown) => {
    assert.ok(hasCode(ErrorCode.VERSION_MISMATCH)(e));
    assert.match((e as Error).message, new RegExp(`version ${PROTOCOL_VERSION + 98}\\b.*version ${PROTOCOL_VERSION}\\b`));
    return true;
  });
});

test('a server refusing the hello gives its code', async (t) => {
  const server = await startServer(t, {
    onHello: () => {
      throw new RingwireError(ErrorCode.NOT_READY, 'still joining');
    },
  });
  await assert.rejects(Connection.connect(server.addr, { self }), (e: unknown) => hasCode(ErrorCode.NOT_READY)(e) && /still joining/.test((e as Error).message));
});

test('a handler error arrives as a RemoteError with its code; the connection stays usable', async (t) => {
  const server = await startServer(t, {
    onRequest: async (req: Request) => {
      if (req.type === 'get') throw new RingwireError(ErrorCode.NOT_FOUND, 'no such key');
      if (req.type === 'put') throw new Error('disk on fire');
      return pingOnly(req);
    },
  });
  const conn = await connect(t, server.addr);
  await assert.rejects(conn.request({ type: 'get', key: Uint8Array.of(1) }), (e: unknown) => {
    assert.ok(e instanceof RemoteError);
    assert.equal(e.code, ErrorCode.NOT_FOUND);
    assert.equal(e.message, 'no such key');
    return true;
  });
  await assert.rejects(conn.request({ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) }), (e: unknown) => e instanceof RemoteError && e.code === ErrorCode.INTERNAL);
  await assert.rejects(conn.request({ type: 'members' }), (e: unknown) => e instanceof RemoteError && e.code === ErrorCode.UNKNOWN_MESSAGE);
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
});

test('an error code this version does not know becomes INTERNAL, naming the code', () => {
  const e = remoteErrorOf({ type: 'error', code: 'FROM_THE_FUTURE', message: 'x' });
  assert.ok(e instanceof RemoteError);
  assert.equal(e.code, ErrorCode.INTERNAL);
  assert.match(e.message, /FROM_THE_FUTURE/);
});

test('connecting to a port nobody listens on fails with UNREACHABLE', async () => {
  const port = await freePort();
  await assert.rejects(Connection.connect(`127.0.0.1:${port}`, { self }), hasCode(ErrorCode.UNREACHABLE));
  await assert.rejects(Connection.connect('not an address', { self }), hasCode(ErrorCode.UNREACHABLE));
});

test('a server that accepts TCP but never answers the hello times out with TIMEOUT', async (t) => {
  const server = await startServer(t, { onHello: () => new Promise(() => {}) });
  const started = performance.now();
  await assert.rejects(Connection.connect(server.addr, { self, connectTimeoutMs: 80 }), hasCode(ErrorCode.TIMEOUT));
  assert.ok(performance.now() - started < 1000);
});

test('a request larger than maxFrameBytes is refused locally; the connection survives', async (t) => {
  const server = await startServer(t);
  const conn = await connect(t, server.addr, { maxFrameBytes: 1000 });
  await assert.rejects(conn.request({ type: 'put', key: Uint8Array.of(1), value: new Uint8Array(2000) }), hasCode(ErrorCode.FRAME_TOO_LARGE));
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
});
