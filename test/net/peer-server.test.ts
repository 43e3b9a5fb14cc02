/**
 * PeerServer's connection limit over real TCP: idle clients beyond maxConnections are evicted
 * (longest idle first, else the oldest), so a new client is always served.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PeerServer } from '../../src/net/peer-server.js';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import type { PeerRef, Request, Response } from '../../src/protocol/messages.js';
import { peerIdForAddr } from '../../src/ring/index.js';
import { Connection } from '../../src/wire/index.js';
import { eventually } from '../helpers/eventually.js';
import { deferred, helloedClient } from '../wire/helpers.js';
import type { RawClient } from '../wire/helpers.js';

async function startPeerServer(t: TestContext, maxConnections: number, handler?: (req: Request) => Promise<Response>): Promise<{ server: PeerServer; addr: string }> {
  const server = new PeerServer({}, { maxConnections });
  const port = await server.listen('127.0.0.1', 0);
  t.after(() => server.close());
  const addr = `127.0.0.1:${port}`;
  const self: PeerRef = { id: peerIdForAddr(addr), addr };
  server.serve(self, handler ?? (async (req) => (req.type === 'ping' ? { type: 'pong' } : { type: 'error', code: 'UNKNOWN_MESSAGE', message: req.type }) as Response));
  return { server, addr };
}

test('50 idle connections against maxConnections 20: a new client is still served and the count stays bounded', async (t) => {
  const { server, addr } = await startPeerServer(t, 20);
  const clients: RawClient[] = [];
  let maxSeen = 0;
  for (let i = 0; i < 50; i++) {
    clients.push(await helloedClient(t, addr));
    maxSeen = Math.max(maxSeen, server.connectionCount());
  }
  assert.ok(maxSeen <= 21, `saw ${maxSeen} connections`);
  // The 30 longest idle were dropped: the first ones, in accept order.
  await eventually(() => clients.slice(0, 30).every((c) => c.socket.destroyed), { timeoutMs: 3000, what: 'the oldest idle clients closed' });
  assert.ok(clients.slice(30).every((c) => !c.socket.destroyed), 'the 20 most recent clients are kept');

  const conn = await Connection.connect(addr, { self: null });
  t.after(() => conn.close());
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
  assert.ok(server.connectionCount() <= 20, `${server.connectionCount()} connections`);
  // The client that was idle longest among the survivors made room for the new one.
  await eventually(() => clients[30]!.socket.destroyed, { timeoutMs: 3000, what: 'the next idle client closed' });
});

test('recent activity protects a connection: the least recently active idle one goes first', async (t) => {
  const { server, addr } = await startPeerServer(t, 3);
  const a = await helloedClient(t, addr);
  const b = await helloedClient(t, addr);
  const c = await helloedClient(t, addr);
  a.send(1, { type: 'ping' });
  assert.equal((await a.next()).msg.type, 'pong'); // a is now more recent than b
  await helloedClient(t, addr);
  await eventually(() => b.socket.destroyed, { timeoutMs: 3000, what: 'b evicted' });
  assert.ok(!a.socket.destroyed && !c.socket.destroyed);
  assert.ok(server.connectionCount() <= 3);
});

test('when every connection is busy, the oldest one is closed to serve a new client', async (t) => {
  const gate = deferred<void>();
  t.after(() => gate.resolve());
  let blocked = 0;
  const { server, addr } = await startPeerServer(t, 2, async (req) => {
    if (req.type === 'ping') return { type: 'pong' };
    blocked++;
    await gate.promise;
    return { type: 'ack' };
  });
  const a = await helloedClient(t, addr);
  const b = await helloedClient(t, addr);
  b.send(1, { type: 'getState' });
  a.send(1, { type: 'getState' }); // a is the most recently active, but also the oldest
  await eventually(() => blocked === 2, { timeoutMs: 3000, what: 'both requests in the handler' });
  const conn = await Connection.connect(addr, { self: null });
  t.after(() => conn.close());
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
  await eventually(() => a.socket.destroyed, { timeoutMs: 3000, what: 'the oldest busy client closed' });
  assert.ok(!b.socket.destroyed);
  assert.ok(server.connectionCount() <= 2);
});

test('the request observer hears every answer and its failures; one that throws costs no reply', async (t) => {
  const server = new PeerServer({}, { maxConnections: 8 });
  const port = await server.listen('127.0.0.1', 0);
  t.after(() => server.close());
  const addr = `127.0.0.1:${port}`;
  const seen: string[] = [];
  const handler = async (req: Request): Promise<Response> => {
    if (req.type === 'ping') return { type: 'pong' };
    throw new RingwireError(ErrorCode.NOT_OWNER, 'not ours');
  };
  server.serve({ id: peerIdForAddr(addr), addr }, handler, (req, res, error, seconds) => {
    seen.push(`${req.type} ${res ? res.type : (error as RingwireError).code}`);
    assert.ok(seconds >= 0 && seconds < 5);
    if (seen.length === 1) throw new Error('a broken observer');
  });
  const conn = await Connection.connect(addr, { self: null });
  t.after(() => conn.close());
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong', 'answered although the observer threw');
  await assert.rejects(conn.request({ type: 'get', key: new Uint8Array([1]) }), (err: RingwireError) => err.code === ErrorCode.NOT_OWNER);
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong', 'the connection stays up');
  assert.deepEqual(seen, ['ping pong', 'get NOT_OWNER', 'ping pong']);
});
