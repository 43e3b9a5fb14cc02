import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { seededRandom } from '../../src/sim/random.js';
import { FRAME_DEFAULTS, FrameDecoder, encodeFrame, encodeFrames } from '../../src/wire/index.js';

const hasCode = (code: string) => (e: unknown) => e instanceof RingwireError && e.code === code;

/** Payloads of assorted sizes with recognisable contents. */
function payloads(sizes: number[]): Buffer[] {
  return sizes.map((n, i) => Buffer.alloc(n, (i * 37 + 1) & 0xff));
}

function assertSamePayloads(got: Buffer[], want: Buffer[]): void {
  assert.equal(got.length, want.length, 'frame count');
  got.forEach((g, i) => assert.ok(g.equals(want[i]!), `frame ${i} (${g.length} vs ${want[i]!.length} bytes)`));
}

test('a frame is a 4-byte big-endian length and the payload', () => {
  const f = encodeFrame(Uint8Array.of(9, 8, 7));
  assert.deepEqual([...f], [0, 0, 0, 3, 9, 8, 7]);
  assert.ok(encodeFrames([Uint8Array.of(1), Uint8Array.of(2, 3)]).equals(Buffer.from([0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 3])));
});

test('a frame arriving one byte at a time is reassembled', () => {
  const want = payloads([300]);
  const stream = encodeFrames(want);
  const d = new FrameDecoder();
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) {
    const out = d.push(stream.subarray(i, i + 1));
    if (i < stream.length - 1) assert.equal(out.length, 0);
    got.push(...out);
  }
  assertSamePayloads(got, want);
  assert.equal(d.bufferedBytes, 0);
});

test('many frames in one chunk all come out, in order', () => {
  const want = payloads(Array.from({ length: 100 }, (_, i) => 1 + (i % 17)));
  const d = new FrameDecoder();
  assertSamePayloads(d.push(encodeFrames(want)), want);
  assert.equal(d.bufferedBytes, 0);
});

test('random splits of a stream of frames give back exactly the frames', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = seededRandom(seed);
    const want = payloads(Array.from({ length: 30 }, () => 1 + Math.floor(random() * (random() < 0.1 ? 70_000 : 200))));
    const stream = encodeFrames(want);
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 5000));
      got.push(...d.push(stream.subarray(at, at + n)));
      at += n;
    }
    assertSamePayloads(got, want);
    assert.equal(d.bufferedBytes, 0, `seed ${seed}`);
  }
});

test('a length prefix claiming 4 GiB is refused before any payload is buffered', () => {
  const d = new FrameDecoder();
  // The prefix dribbles in: nothing but the prefix bytes may be held while waiting for it.
  for (const b of [0xff, 0xff, 0xff]) {
    assert.deepEqual(d.push(Buffer.of(b)), []);
    assert.ok(d.bufferedBytes <= 3);
  }
  assert.throws(() => d.push(Buffer.of(0xff, 1, 2, 3)), hasCode(ErrorCode.FRAME_TOO_LARGE));
  assert.equal(d.bufferedBytes, 0);
  // The stream is out of sync for good: later input is refused too, and still not kept.
  assert.throws(() => d.push(Buffer.alloc(64 * 1024)), hasCode(ErrorCode.FRAME_TOO_LARGE));
  assert.equal(d.bufferedBytes, 0);
});

test('an oversized prefix behind valid frames in the same chunk is refused at once', () => {
  const d = new FrameDecoder({ maxFrameBytes: 100 });
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(101);
  assert.throws(() => d.push(Buffer.concat([encodeFrame(Buffer.of(1)), huge, Buffer.alloc(50)])), hasCode(ErrorCode.FRAME_TOO_LARGE));
  assert.equal(d.bufferedBytes, 0);
});

test('the maximum itself is accepted; one byte more is not', () => {
  const d = new FrameDecoder({ maxFrameBytes: 1000 });
  assertSamePayloads(d.push(encodeFrame(Buffer.alloc(1000, 7))), [Buffer.alloc(1000, 7)]);
  assert.throws(() => d.push(encodeFrame(Buffer.alloc(1001))), hasCode(ErrorCode.FRAME_TOO_LARGE));
  assert.equal(FRAME_DEFAULTS.maxFrameBytes, 1024 * 1024);
});

test('a partial frame holds only the bytes that arrived', () => {
  const d = new FrameDecoder();
  const frame = encodeFrame(Buffer.alloc(500_000, 1));
  d.push(frame.subarray(0, 1000));
  assert.equal(d.bufferedBytes, 1000);
  d.push(frame.subarray(1000, 3000));
  assert.equal(d.bufferedBytes, 3000);
  assert.equal(d.push(frame.subarray(3000)).length, 1);
  assert.equal(d.bufferedBytes, 0);
});

test('a zero-length frame is a protocol error', () => {
  assert.throws(() => new FrameDecoder().push(Buffer.of(0, 0, 0, 0)), hasCode(ErrorCode.PROTOCOL_ERROR));
});

test('a nonsensical maximum is refused when the decoder is made', () => {
  for (const bad of [0, -1, 1.5, 2 ** 32, NaN]) {
    assert.throws(() => new FrameDecoder({ maxFrameBytes: bad }), (e: unknown) => e instanceof RingwireError, String(bad));
  }
});
