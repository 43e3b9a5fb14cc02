import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import type { Message, PeerRef, StoredRecord } from '../../src/protocol/messages.js';
import { keyId, peerIdForAddr } from '../../src/ring/index.js';
import { MESSAGE_TYPES, decodeMessage, encodeMessage } from '../../src/wire/index.js';
import { PLANNED_TYPES } from '../../src/wire/codec.js';

const peer = (port: number): PeerRef => ({ id: peerIdForAddr(`127.0.0.1:${port}`), addr: `127.0.0.1:${port}` });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const record: StoredRecord = { key: bytes('k'), value: bytes('v'), version: 1712345678901.5, deleted: false };
const tombstone: StoredRecord = { key: bytes('gone'), value: new Uint8Array(0), version: 7, deleted: true };

/** One sample of every message type, plus extra ones with null / empty / default fields. */
const SAMPLES: Message[] = [
  { type: 'hello', version: PROTOCOL_VERSION, peer: peer(4001) },
  { type: 'hello', version: PROTOCOL_VERSION, peer: null },
  { type: 'helloAck', version: PROTOCOL_VERSION, peer: peer(4002) },
  { type: 'helloAck', version: 0, peer: null },
  { type: 'error', code: ErrorCode.NOT_FOUND, message: 'no such key: ü' },
  { type: 'error', code: '', message: '' },
  { type: 'ping' },
  { type: 'pong' },
  { type: 'ack' },
  { type: 'getState' },
  { type: 'state', self: peer(1), predecessor: peer(2), successors: [peer(3), peer(4), peer(5)] },
  { type: 'state', self: peer(1), predecessor: null, successors: [] },
  { type: 'notify', peer: peer(6) },
  { type: 'findSuccessor', key: keyId('some key') },
  { type: 'findSuccessorReply', done: true, nodes: [peer(7), peer(8)] },
  { type: 'findSuccessorReply', done: false, nodes: [] },
  { type: 'leave', peer: peer(9), predecessor: peer(10), successors: [peer(11)] },
  { type: 'leave', peer: peer(9), predecessor: null, successors: [] },
  { type: 'getInfo' },
  { type: 'info', self: peer(1), predecessor: peer(2), successors: [peer(3)], fingers: [peer(3), peer(4)], keys: 12, stored: 40 },
  { type: 'info', self: peer(1), predecessor: null, successors: [], fingers: [], keys: 0, stored: 0 },
  { type: 'lookup', keyId: keyId('k') },
  { type: 'lookupReply', owner: peer(12), hops: 3, path: [peer(4), peer(7), peer(12)] },
  { type: 'lookupReply', owner: peer(12), hops: 0, path: [] },
  { type: 'put', key: bytes('k'), value: bytes('a value') },
  { type: 'put', key: bytes('k'), value: new Uint8Array(0) },
  { type: 'putReply', version: 1712345678901, copies: 3, hops: 2 },
  { type: 'putReply', version: 0, copies: 0, hops: 0 },
  { type: 'get', key: bytes('k') },
  { type: 'getReply', found: true, value: bytes('v'), version: 5, hops: 1 },
  { type: 'getReply', found: false, value: new Uint8Array(0), version: 0, hops: 0 },
  { type: 'delete', key: bytes('k') },
  { type: 'deleteReply', found: true, version: 9, hops: 4 },
  { type: 'ownerWrite', key: bytes('k'), value: bytes('v'), deleted: false },
  { type: 'ownerWrite', key: bytes('k'), value: new Uint8Array(0), deleted: true },
  { type: 'ownerWriteReply', version: 3, copies: 2, existed: true },
  { type: 'replicate', records: [record, tombstone] },
  { type: 'replicate', records: [] },
  { type: 'read', key: bytes('k') },
  { type: 'readReply', record },
  { type: 'readReply', record: null },
  { type: 'register', peer: peer(13) },
  { type: 'deregister', peer: peer(14) },
  { type: 'sample', count: 5 },
  { type: 'members' },
  { type: 'peerList', peers: [peer(15), peer(16)] },
  { type: 'peerList', peers: [] },
  { type: 'successorsChanged' },
  { type: 'authProof', proof: new Uint8Array(32).fill(7) },
  { type: 'routeLookup', key: peer(17).id, origin: '127.0.0.1:4001', token: 0xfffffffe, path: [peer(18), peer(19)] },
  { type: 'routeDone', token: 7, nodes: [peer(20), peer(21)], rangeStart: peer(22).id, path: [peer(23)] },
  { type: 'routeDone', token: 8, nodes: [], path: [], errorCode: 'LOOKUP_FAILED' },
];

/**
 * Asserts that `actual` reads like `expected` field by field, the way a caller reads it: decoded
 * messages inherit defaults from their prototype and carry Buffers, so a structural deepEqual
 * against plain objects would compare representation, not content.
 */
function assertReadsLike(actual: unknown, expected: unknown, path: string): void {
  if (expected instanceof Uint8Array) {
    assert.ok(actual instanceof Uint8Array, `${path} should be a Uint8Array, got ${String(actual)}`);
    assert.deepEqual([...actual], [...expected], path);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} should be an array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
    expected.forEach((e, i) => assertReadsLike(actual[i], e, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path} should be an object, got ${String(actual)}`);
    for (const [k, v] of Object.entries(expected)) assertReadsLike((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

test('every message type round-trips, including null, empty and default fields', () => {
  let reqId = 0;
  for (const msg of SAMPLES) {
    reqId = (reqId * 7 + 1) >>> 0;
    const decoded = decodeMessage(encodeMessage(reqId, msg));
    assert.equal(decoded.reqId, reqId, msg.type);
    assertReadsLike(decoded.msg, msg, msg.type);
  }
});

test('the samples cover every body of the Envelope', () => {
  assert.deepEqual(new Set(SAMPLES.map((m) => m.type)), new Set(MESSAGE_TYPES));
  assert.equal(MESSAGE_TYPES.length, 36);
});

test("the bytes are exactly what protobufjs's generated Envelope encoder writes", () => {
  const envelope = protobuf.loadSync(fileURLToPath(new URL('../../../proto/ringwire.proto', import.meta.url))).lookupType('ringwire.Envelope');
  for (const reqId of [0, 1, 300, 0xffffffff]) {
    for (const msg of SAMPLES) {
      const expected = envelope.encode({ reqId, [msg.type]: msg }).finish();
      assert.deepEqual(Buffer.from(encodeMessage(reqId, msg)), Buffer.from(expected), `${msg.type} with request id ${reqId}`);
    }
  }
});

/** Any value of one message type, built from the schema: every field set, unset, empty or at its default. */
function arbitraryOf(type: protobuf.Type): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    let one: fc.Arbitrary<unknown>;
    if (field.resolvedType instanceof protobuf.Type) one = arbitraryOf(field.resolvedType);
    else if (field.type === 'uint32') one = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
    else if (field.type === 'bool') one = fc.boolean();
    else if (field.type === 'double') one = fc.oneof(fc.constant(0), fc.constant(-0), fc.double());
    else if (field.type === 'string') one = fc.oneof(fc.constant(''), fc.string(), fc.string({ unit: 'grapheme', maxLength: 70 }));
    else if (field.type === 'bytes') one = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 200 }));
    else throw new Error(`no arbitrary for ${type.name}.${field.name} (${field.type})`);
    fields[field.name] = field.repeated ? fc.array(one, { maxLength: 4 }) : field.resolvedType instanceof protobuf.Type ? fc.option(one, { nil: null }) : one;
  }
  return fc.record(fields, { requiredKeys: [] });
}

test('our encoder writes every message type byte for byte as protobufjs does', () => {
  assert.deepEqual([...PLANNED_TYPES].sort(), [...MESSAGE_TYPES].sort(), 'every body is written by encoder.ts, none falls back to protobufjs');
  const envelope = protobuf.loadSync(fileURLToPath(new URL('../../../proto/ringwire.proto', import.meta.url))).lookupType('ringwire.Envelope');
  const bodies = envelope.oneofs!['body']!.fieldsArray.map((f) => [f.name, arbitraryOf(f.resolve().resolvedType as protobuf.Type)] as const);
  const anyMessage = fc.oneof(...bodies.map(([name, arb]) => arb.map((m) => ({ ...m, type: name }) as unknown as Message)));
  const reqIds = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff }));
  fc.assert(
    fc.property(reqIds, anyMessage, (reqId, msg) => {
      const ours = Buffer.from(encodeMessage(reqId, msg));
      assert.deepEqual(ours, Buffer.from(envelope.encode({ reqId, [msg.type]: msg }).finish()));
      assert.equal(decodeMessage(ours).reqId, reqId);
    }),
    { numRuns: 3000 },
  );
});

test('a field of the wrong JavaScript type is refused with INTERNAL before anything is written', () => {
  const internal = (e: unknown): boolean => e instanceof RingwireError && e.code === ErrorCode.INTERNAL;
  const bad = (m: unknown): Message => m as Message;
  assert.throws(() => encodeMessage(1, bad({ type: 'findSuccessor', key: 'not bytes' })), internal);
  assert.throws(() => encodeMessage(1, bad({ type: 'lookupReply', owner: peer(1), hops: '2', path: [] })), internal);
  assert.throws(() => encodeMessage(1, bad({ type: 'state', self: peer(1), predecessor: null, successors: [peer(2), 7] })), internal);
  assert.throws(() => encodeMessage(1, bad({ type: 'error', code: 5, message: '' })), internal);
  // And the next message encodes as if nothing had happened.
  assert.equal(decodeMessage(encodeMessage(2, { type: 'ping' })).msg.type, 'ping');
});

test('request ids keep their full uint32 range', () => {
  for (const reqId of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
    assert.equal(decodeMessage(encodeMessage(reqId, { type: 'ping' })).reqId, reqId);
  }
  for (const bad of [-1, 0x100000000, 1.5, NaN]) {
    assert.throws(() => encodeMessage(bad, { type: 'ping' }), (e: unknown) => e instanceof RingwireError && e.code === ErrorCode.INTERNAL);
  }
});

test('unset fields decode to the documented defaults', () => {
  // An empty sub-message: every field left at its proto3 default.
  const raw = (type: string): Message => ({ type }) as unknown as Message;
  const state = decodeMessage(encodeMessage(1, raw('state'))).msg;
  assert.equal(state.type, 'state');
  if (state.type !== 'state') return;
  assert.equal(state.self, null);
  assert.equal(state.predecessor, null);
  assert.deepEqual(state.successors, []);

  const got = decodeMessage(encodeMessage(1, raw('getReply'))).msg;
  if (got.type !== 'getReply') return assert.fail('expected getReply');
  assert.ok(got.value instanceof Uint8Array);
  assert.equal(got.value.length, 0);
  assert.equal(got.found, false);
  assert.equal(got.version, 0);

  const read = decodeMessage(encodeMessage(1, { type: 'readReply', record: {} as StoredRecord })).msg;
  if (read.type !== 'readReply' || read.record === null) return assert.fail('expected a record');
  assert.ok(read.record.key instanceof Uint8Array && read.record.key.length === 0);
  assert.ok(read.record.value instanceof Uint8Array && read.record.value.length === 0);

  const notify = decodeMessage(encodeMessage(1, { type: 'notify', peer: {} as PeerRef })).msg;
  if (notify.type !== 'notify') return assert.fail('expected notify');
  assert.ok(notify.peer.id instanceof Uint8Array && notify.peer.id.length === 0);
  assert.equal(notify.peer.addr, '');
});

test('a decoded message can be sent on as is (forwarding keeps every field)', () => {
  const first = decodeMessage(encodeMessage(3, SAMPLES.find((m) => m.type === 'info')!)).msg;
  const again = decodeMessage(encodeMessage(4, first)).msg;
  assertReadsLike(again, SAMPLES.find((m) => m.type === 'info'), 'info');
});

const isProtocolError = (e: unknown): boolean => e instanceof RingwireError && e.code === ErrorCode.PROTOCOL_ERROR;

test('garbage bytes are refused with PROTOCOL_ERROR', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['text', bytes('hello world, not protobuf')],
    ['all 0xff', new Uint8Array(32).fill(0xff)],
    ['truncated', encodeMessage(9, SAMPLES[10]!).subarray(0, 12)],
    ['empty', new Uint8Array(0)],
    ['an envelope with only a reqId (no body)', Uint8Array.of(0x08, 0x05)],
    ['a body from a newer protocol (field 100)', Uint8Array.of(0x08, 0x01, 0xa2, 0x06, 0x00)],
  ];
  for (const [what, b] of cases) assert.throws(() => decodeMessage(b), isProtocolError, what);
});

test('arbitrary bytes either decode or throw PROTOCOL_ERROR, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        const { msg } = decodeMessage(b);
        assert.ok(MESSAGE_TYPES.includes(msg.type));
      } catch (err) {
        assert.ok(isProtocolError(err), String(err));
      }
    }),
    { seed: 42, numRuns: 2000 },
  );
});

/** An Envelope whose `error` body (field 4) has `raw` as its `message` string (field 2), as sent. */
function errorWithRawMessage(raw: Uint8Array): Buffer {
  const body = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(raw).finish();
  return Buffer.from(protobuf.Writer.create().uint32(8).uint32(3).uint32((4 << 3) | 2).bytes(body).finish());
}

test('string fields read exactly what a strict UTF-8 decoder reads, and invalid UTF-8 is refused', () => {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // Mostly short ASCII (addresses), some multi-byte text, some bytes that are not UTF-8 at all;
  // as a Buffer (a socket read) and as a plain Uint8Array.
  const raw = fc.oneof(
    fc.string({ maxLength: 80 }).map((s) => new TextEncoder().encode(s)),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => new TextEncoder().encode(s)),
    fc.uint8Array({ maxLength: 80 }),
  );
  fc.assert(
    fc.property(raw, fc.boolean(), (b, asBuffer) => {
      const envelope = errorWithRawMessage(b);
      const input = asBuffer ? envelope : new Uint8Array(envelope);
      let expected: string | undefined;
      try {
        expected = strict.decode(b);
      } catch {
        expected = undefined;
      }
      if (expected === undefined) {
        assert.throws(() => decodeMessage(input), isProtocolError);
      } else {
        const { msg } = decodeMessage(input);
        assert.equal(msg.type, 'error');
        assert.equal((msg as { message: string }).message, expected);
      }
    }),
    { seed: 7, numRuns: 3000 },
  );
});
