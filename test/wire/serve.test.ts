import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import type { Response } from '../../src/protocol/messages.js';
import { seededRandom } from '../../src/sim/random.js';
import { Connection, encodeFrame, encodeFrames, encodeMessage } from '../../src/wire/index.js';
import { eventually, within } from './eventually.js';
import { helloedClient, rawClient, startServer } from './helpers.js';
import type { RawClient } from './helpers.js';

/** The server told the raw client `code` in an error frame, then closed the socket. */
async function assertRefused(client: RawClient, code: string): Promise<void> {
  const { reqId, msg } = await client.next();
  assert.equal(msg.type, 'error');
  if (msg.type === 'error') assert.equal(msg.code, code, msg.message);
  assert.equal(typeof reqId, 'number');
  await within(client.closed, 2000, 'the server closes the socket');
}

async function assertServed(conn: Connection): Promise<void> {
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
}

test('random bytes close that connection while another client on the same server keeps being served', async (t) => {
  const server = await startServer(t);
  const good = await Connection.connect(server.addr, { self: null });
  t.after(() => good.close());
  await assertServed(good);

  const random = seededRandom(7);
  const garbage = Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256)));
  // A plausible length prefix in front, so the bytes reach the decoder rather than the size check.
  const bad = await rawClient(t, server.addr);
  await bad.write(encodeFrame(garbage));
  await assertRefused(bad, ErrorCode.PROTOCOL_ERROR);

  // The same after a proper hello.
  const bad2 = await helloedClient(t, server.addr);
  await bad2.write(encodeFrame(Buffer.alloc(16, 0xff)));
  await assertRefused(bad2, ErrorCode.PROTOCOL_ERROR);

  await assertServed(good);
  assert.ok(good.isOpen);
});

test('an oversized length prefix closes the connection with FRAME_TOO_LARGE', async (t) => {
  const server = await startServer(t, { maxFrameBytes: 4096 });
  const c = await helloedClient(t, server.addr);
  await c.write(Buffer.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3));
  await assertRefused(c, ErrorCode.FRAME_TOO_LARGE);

  const before = await rawClient(t, server.addr);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(4097);
  await before.write(prefix);
  await assertRefused(before, ErrorCode.FRAME_TOO_LARGE);
});

test('a client that never sends its hello is closed after helloTimeoutMs', async (t) => {
  const server = await startServer(t, { helloTimeoutMs: 60 });
  const started = performance.now();
  const idle = await rawClient(t, server.addr);
  await assertRefused(idle, ErrorCode.TIMEOUT);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 50 && elapsed < 2000, `closed after ${elapsed} ms`);
  // A client that did say hello is not affected by the hello timer.
  const conn = await Connection.connect(server.addr, { self: null });
  t.after(() => conn.close());
  // Timers of equal length fire in start order: once a client opened after `conn` has been timed
  // out, `conn`'s hello timer is past due too, and must have been cleared by its hello.
  const later = await rawClient(t, server.addr);
  await assertRefused(later, ErrorCode.TIMEOUT);
  await assertServed(conn);
  assert.ok(conn.isOpen);
});

test('frames split over many TCP writes still work', async (t) => {
  const server = await startServer(t);
  const c = await rawClient(t, server.addr);
  const stream = Buffer.concat([
    encodeFrame(encodeMessage(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null })),
    encodeFrame(encodeMessage(5, { type: 'ping' })),
  ]);
  for (let i = 0; i < stream.length; i++) {
    await c.write(stream.subarray(i, i + 1));
    await new Promise((r) => setImmediate(r)); // give each byte its own segment
  }
  const ack = await c.next();
  assert.equal(ack.msg.type, 'helloAck');
  assert.equal(ack.reqId, 0);
  const pong = await c.next();
  assert.deepEqual([pong.reqId, pong.msg.type], [5, 'pong']);
});

test('a request before the hello is refused with PROTOCOL_ERROR under its id', async (t) => {
  const server = await startServer(t);
  const c = await rawClient(t, server.addr);
  c.send(9, { type: 'ping' });
  const { reqId, msg } = await c.next();
  assert.equal(reqId, 9);
  assert.equal(msg.type === 'error' && msg.code, ErrorCode.PROTOCOL_ERROR);
  await within(c.closed, 2000, 'closed');
});

test('a reply sent where a request belongs is refused with PROTOCOL_ERROR', async (t) => {
  const server = await startServer(t);
  const c = await helloedClient(t, server.addr);
  c.send(3, { type: 'pong' });
  await assertRefused(c, ErrorCode.PROTOCOL_ERROR);
});

test('a hello with another protocol version is refused with VERSION_MISMATCH', async (t) => {
  const server = await startServer(t);
  const c = await rawClient(t, server.addr);
  c.send(0, { type: 'hello', version: PROTOCOL_VERSION + 1, peer: null });
  const { msg } = await c.next();
  assert.equal(msg.type, 'error');
  if (msg.type === 'error') {
    assert.equal(msg.code, ErrorCode.VERSION_MISMATCH);
    assert.match(msg.message, new RegExp(`version ${PROTOCOL_VERSION + 1}\\b.*version ${PROTOCOL_VERSION}\\b`));
  }
  await within(c.closed, 2000, 'closed');
});

test('a hello naming a malformed peer is refused with INVALID_REQUEST', async (t) => {
  const server = await startServer(t);
  const c = await rawClient(t, server.addr);
  c.send(0, { type: 'hello', version: PROTOCOL_VERSION, peer: { id: new Uint8Array(3), addr: 'x' } });
  await assertRefused(c, ErrorCode.INVALID_REQUEST);
});

test('requests pipelined behind the hello are answered once the hello is accepted', async (t) => {
  let release!: () => void;
  const accepted = new Promise<void>((r) => (release = r));
  const server = await startServer(t, {
    onHello: async () => {
      await accepted;
      return { type: 'helloAck', version: PROTOCOL_VERSION, peer: null };
    },
  });
  const c = await rawClient(t, server.addr);
  c.send(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null });
  c.send(1, { type: 'ping' });
  c.send(2, { type: 'ping' });
  release();
  const got = [await c.next(), await c.next(), await c.next()].map((m) => [m.reqId, m.msg.type]);
  assert.deepEqual(got, [[0, 'helloAck'], [1, 'pong'], [2, 'pong']]);
});

test('a handler answering with something that is not a response gets INTERNAL; the connection stays', async (t) => {
  const server = await startServer(t, {
    onRequest: async (req) => (req.type === 'ping' ? { type: 'pong' } : ({ type: 'ping' } as unknown as Response)),
  });
  const c = await helloedClient(t, server.addr);
  c.send(4, { type: 'members' });
  const { reqId, msg } = await c.next();
  assert.equal(reqId, 4);
  assert.equal(msg.type === 'error' && msg.code, ErrorCode.INTERNAL);
  c.send(5, { type: 'ping' });
  assert.equal((await c.next()).msg.type, 'pong');
});

test('a one-way request gets no answer, handled or failing, and the connection goes on serving', async (t) => {
  const seen: string[] = [];
  const server = await startServer(t, {
    onRequest: async (req) => {
      seen.push(req.type);
      if (req.type === 'routeDone') throw new Error('a failing one-way handler');
      return req.type === 'ping' ? { type: 'pong' } : { type: 'ack' };
    },
  });
  const client = await helloedClient(t, server.addr);
  client.send(5, { type: 'routeLookup', key: new Uint8Array(20).fill(1), origin: '127.0.0.1:1', token: 9, path: [] });
  client.send(6, { type: 'routeDone', token: 9, nodes: [], path: [] });
  client.send(7, { type: 'ping' });
  // The first frame back answers the ping: neither one-way message was answered, not even with an error.
  const first = await client.next();
  assert.equal(first.reqId, 7);
  assert.equal(first.msg.type, 'pong');
  assert.deepEqual(seen, ['routeLookup', 'routeDone', 'ping']);
});

test('a handler may answer at once: its value is the reply, what it throws an error reply, one-way or not', async (t) => {
  const seen: string[] = [];
  const server = await startServer(t, {
    onRequest: (req) => {
      seen.push(req.type);
      if (req.type === 'members' || req.type === 'routeDone') throw new RingwireError(ErrorCode.UNKNOWN_MESSAGE, `no ${req.type} here`);
      return req.type === 'ping' ? { type: 'pong' } : { type: 'ack' };
    },
  });
  const client = await helloedClient(t, server.addr);
  client.send(1, { type: 'ping' });
  client.send(2, { type: 'members' });
  client.send(3, { type: 'routeDone', token: 9, nodes: [], path: [] });
  client.send(4, { type: 'routeLookup', key: new Uint8Array(20).fill(1), origin: '127.0.0.1:1', token: 9, path: [] });
  client.send(5, { type: 'ping' });
  const got = [await client.next(), await client.next(), await client.next()].map((m) => [m.reqId, m.msg.type === 'error' ? m.msg.code : m.msg.type]);
  assert.deepEqual(got, [[1, 'pong'], [2, ErrorCode.UNKNOWN_MESSAGE], [5, 'pong']]);
  assert.deepEqual(seen, ['ping', 'members', 'routeDone', 'routeLookup', 'ping']);
  assert.equal(server.served[0]!.inFlight, 0);
});

test('thousands of requests answered at once, queued behind a slow one, are drained without growing the stack', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let done = 0;
  const server = await startServer(t, {
    maxInFlight: 1,
    onRequest: (req) => {
      if (req.type === 'ping') return held.then(() => ({ type: 'pong' }) as Response);
      done++;
      return { type: 'ack' };
    },
  });
  const client = await helloedClient(t, server.addr);
  const count = 20_000;
  const frames = [encodeMessage(1, { type: 'ping' })];
  for (let i = 0; i < count; i++) frames.push(encodeMessage(2 + i, { type: 'routeDone', token: i + 1, nodes: [], path: [] }));
  // One write: the server decodes them in a few large chunks, all but the first queued behind the ping.
  await client.write(encodeFrames(frames));
  // The ping is in the first chunk: once it is in flight, the rest of that chunk waits behind it.
  await eventually(() => server.served[0]?.inFlight === 1, { timeoutMs: 2000 });
  assert.equal(done, 0);
  release();
  const first = await client.next();
  assert.deepEqual([first.reqId, first.msg.type], [1, 'pong']);
  await eventually(() => done === count, { timeoutMs: 10_000 });
  client.send(count + 2, { type: 'ping' });
  assert.equal((await client.next()).msg.type, 'pong');
});
