// The HMAC challenge of the hello, at the wire level: a raw client that skips or forges its proof
// is refused by the server with AUTH_FAILED before any request is handled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/errors/errors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { ClusterSecret, Connection } from '../../src/wire/index.js';
import { clientProof, NONCE_BYTES, proofMatches, serverProof } from '../../src/wire/auth.js';
import { rawClient, startServer } from './helpers.js';

const SECRET = new ClusterSecret('s3cret');

test('proofs: labelled per side, bound to both nonces, compared in constant time', () => {
  const a = new Uint8Array(NONCE_BYTES).fill(1);
  const b = new Uint8Array(NONCE_BYTES).fill(2);
  const s = serverProof(SECRET, a, b);
  assert.ok(proofMatches(s, serverProof(SECRET, a, b)));
  assert.ok(!proofMatches(s, clientProof(SECRET, a, b)), 'a server proof is no client proof');
  assert.ok(!proofMatches(s, serverProof(SECRET, b, a)), 'nonce order matters');
  assert.ok(!proofMatches(s, serverProof(new ClusterSecret('other'), a, b)));
  assert.ok(!proofMatches(s, s.subarray(0, 16)), 'a short proof never matches');
  assert.ok(!proofMatches(s, undefined));
});

test('server: a forged proof, a request instead of the proof, or no nonce at all gets AUTH_FAILED', async (t) => {
  const server = await startServer(t, { secret: SECRET });
  const attempts: Array<(c: Awaited<ReturnType<typeof rawClient>>) => void> = [
    (c) => c.send(0, { type: 'authProof', proof: new Uint8Array(32) }),
    (c) => c.send(1, { type: 'ping' }),
  ];
  for (const after of attempts) {
    const c = await rawClient(t, server.addr);
    c.send(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null, nonce: new Uint8Array(NONCE_BYTES).fill(9) });
    const ack = await c.next();
    assert.equal(ack.msg.type, 'helloAck');
    assert.ok(ack.msg.type === 'helloAck' && ack.msg.proof?.length === 32, 'the server proves itself first');
    after(c);
    const refusal = await c.next();
    assert.equal(refusal.msg.type === 'error' && refusal.msg.code, ErrorCode.AUTH_FAILED);
  }
  const plain = await rawClient(t, server.addr);
  plain.send(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null });
  const refusal = await plain.next();
  assert.equal(refusal.msg.type === 'error' && refusal.msg.code, ErrorCode.AUTH_FAILED);

  // The real client with the right secret gets through and is served.
  const conn = await Connection.connect(server.addr, { self: null, secret: SECRET });
  t.after(() => conn.close());
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
});

test('without a secret on either side the hello is unchanged', async (t) => {
  const server = await startServer(t, {});
  const conn = await Connection.connect(server.addr, { self: null });
  t.after(() => conn.close());
  assert.equal((await conn.request({ type: 'ping' })).type, 'pong');
});
