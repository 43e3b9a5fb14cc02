/**
 * Hostile input against serveConnection over real TCP: stalled partial frames and request floods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/errors/errors.js';
import type { Response } from '../../src/protocol/messages.js';
import { Connection, encodeFrame, encodeFrames, encodeMessage } from '../../src/wire/index.js';
import { eventually } from '../helpers/eventually.js';
import { within } from './eventually.js';
import { deferred, helloedClient, startServer } from './helpers.js';

test('half a frame then silence is closed after frameTimeoutMs; other clients are unaffected', async (t) => {
  const server = await startServer(t, { frameTimeoutMs: 200 });
  // Opened first and idle on a frame boundary: no frame timer runs for it.
  const idle = await helloedClient(t, server.addr);

  const stalled = await helloedClient(t, server.addr);
  const frame = encodeFrame(encodeMessage(1, { type: 'ping' }));
  assert.ok(frame.length > 5);
  const started = performance.now();
  await stalled.write(frame.subarray(0, frame.length - 1));
  const { msg } = await within(stalled.next(), 3000, 'the timeout error');
  assert.equal(msg.type === 'error' && msg.code, ErrorCode.TIMEOUT);
  await within(stalled.closed, 3000, 'the server closes the stalled socket');
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 150 && elapsed < 3000, `closed after ${elapsed} ms`);

  // The idle client stayed connected and is served; so is a new one.
  assert.ok(!idle.socket.destroyed);
  idle.send(7, { type: 'ping' });
  const pong = await idle.next();
  assert.deepEqual([pong.reqId, pong.msg.type], [7, 'pong']);
  const conn = await Connection.connect(server.addr, { self: null });
  t.after(() => conn.close());
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
});

test('frames split across writes are not timed out: each completed frame restarts the frame timer', async (t) => {
  const server = await startServer(t, { frameTimeoutMs: 200 });
  const c = await helloedClient(t, server.addr);
  // Many frames, each split across two writes: the timer restarts on every completed frame.
  for (let id = 1; id <= 5; id++) {
    const frame = encodeFrame(encodeMessage(id, { type: 'ping' }));
    await c.write(frame.subarray(0, 3));
    await c.write(frame.subarray(3));
    const pong = await c.next();
    assert.deepEqual([pong.reqId, pong.msg.type], [id, 'pong']);
  }
  assert.ok(!c.socket.destroyed);
});

test('a flood of 2,000 requests never has more than maxInFlight handler calls pending, and all are answered in order', async (t) => {
  const gate = deferred<void>();
  let pending = 0;
  let maxPending = 0;
  let calls = 0;
  const server = await startServer(t, {
    maxInFlight: 16,
    onRequest: async (req): Promise<Response> => {
      calls++;
      pending++;
      maxPending = Math.max(maxPending, pending);
      try {
        await gate.promise;
      } finally {
        pending--;
      }
      return req.type === 'ping' ? { type: 'pong' } : { type: 'error', code: ErrorCode.UNKNOWN_MESSAGE, message: req.type };
    },
  });
  const c = await helloedClient(t, server.addr);
  const N = 2000;
  const payloads = Array.from({ length: N }, (_, i) => encodeMessage(i + 1, { type: 'ping' }));
  await c.write(encodeFrames(payloads));

  await eventually(() => pending === 16, { timeoutMs: 3000, what: '16 handler calls pending' });
  const served = server.served[0]!;
  assert.equal(served.inFlight, 16);
  const accepted = [...server.sockets][0]!;
  assert.ok(accepted.isPaused(), 'the server stopped reading from the flooding socket');
  assert.equal(calls, 16, 'no handler call beyond the limit');

  gate.resolve();
  for (let id = 1; id <= N; id++) {
    const { reqId, msg } = await c.next();
    assert.equal(reqId, id);
    assert.equal(msg.type, 'pong');
  }
  assert.equal(calls, N);
  assert.equal(maxPending, 16);
  await eventually(() => served.inFlight === 0 && !accepted.isPaused(), { timeoutMs: 2000, what: 'reading resumed' });
  // Still usable afterwards.
  c.send(N + 1, { type: 'ping' });
  assert.deepEqual((await c.next()).reqId, N + 1);
});
