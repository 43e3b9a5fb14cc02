/**
 * Fuzz test of the frame decoder and of message handling (issue 4, section 2): random bytes and
 * mutated valid frames of every message type, seeded and deterministic.
 *
 *   RINGWIRE_FUZZ_ITERATIONS  decoder-level cases (default 3000); live-socket cases are 1/15 of it
 *   RINGWIRE_FUZZ_SEED        base seed (default fixed, so CI runs the same cases every time)
 *
 * A failure names the seed and case index; `caseRandom(seed, index)` replays that case alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { PeerServer } from '../../src/net/peer-server.js';
import { PROTOCOL_VERSION, isRequest } from '../../src/protocol/messages.js';
import type { Message, PeerRef, Request, Response } from '../../src/protocol/messages.js';
import { peerIdForAddr } from '../../src/ring/index.js';
import { randomInt } from '../../src/sim/random.js';
import { Connection, FRAME_DEFAULTS, FrameDecoder, MESSAGE_TYPES, decodeMessage, encodeFrame, encodeMessage } from '../../src/wire/index.js';
import { eventually } from '../helpers/eventually.js';
import {
  DEFAULT_FUZZ_ITERATIONS, DEFAULT_FUZZ_SEED, GENERATED_TYPES, caseRandom, envInt, fillerToBoundary, hex, mutate,
  randomBytes, randomChunks, referenceFraming, validFrame,
} from './fuzz-inputs.js';
import type { MutationKind } from './fuzz-inputs.js';

const SEED = envInt('RINGWIRE_FUZZ_SEED', DEFAULT_FUZZ_SEED) >>> 0;
const DECODER_CASES = envInt('RINGWIRE_FUZZ_ITERATIONS', DEFAULT_FUZZ_ITERATIONS);
const LIVE_CASES = Math.max(1, Math.round(DECODER_CASES / 15));
/** Live cases run this many sockets at a time. */
const LIVE_CONCURRENCY = 8;
/** The live server's frame limit: small, so corrupted prefixes often land on both sides of it. */
const LIVE_MAX_FRAME = 64 * 1024;
const SEED_HEX = `0x${SEED.toString(16)}`;
const REQUEST_TYPES = GENERATED_TYPES.filter((type) => isRequest({ type } as Message)) as Request['type'][];

const ACCEPTED_CODES: ReadonlySet<string> = new Set([ErrorCode.PROTOCOL_ERROR, ErrorCode.FRAME_TOO_LARGE]);

/** Rethrows anything but a RingwireError with an accepted code. */
function expectWireError(err: unknown, codes: ReadonlySet<string>, where: string): RingwireError {
  if (err instanceof RingwireError && codes.has(err.code)) return err;
  const what = err instanceof RingwireError ? `RingwireError ${err.code}` : err instanceof Error ? `${err.constructor.name}` : typeof err;
  throw new Error(`${where}: unexpected ${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}

/** A decoded message must be well formed enough for the layers above to dispatch on. */
function checkDecoded(bytes: Uint8Array, where: string): Message | null {
  let decoded;
  try {
    decoded = decodeMessage(bytes);
  } catch (err) {
    expectWireError(err, new Set([ErrorCode.PROTOCOL_ERROR]), `${where} decodeMessage`);
    return null;
  }
  assert.ok(MESSAGE_TYPES.includes(decoded.msg.type), `${where}: decoded unknown type ${String(decoded.msg.type)}`);
  assert.ok(Number.isInteger(decoded.reqId) && decoded.reqId >= 0 && decoded.reqId <= 0xffff_ffff, `${where}: reqId ${decoded.reqId}`);
  return decoded.msg;
}

interface DecoderStats {
  cases: number;
  frames: number;
  decoded: number;
  undecodable: number;
  tooLarge: number;
  protocolError: number;
  clean: number;
}

/** One decoder-level case: returns nothing, throws (with seed and index) on any violation. */
function runDecoderCase(index: number, stats: DecoderStats): void {
  const r = caseRandom(SEED, index);
  const maxFrameBytes = [16, 256, 4096, FRAME_DEFAULTS.maxFrameBytes][randomInt(r, 4)]!;
  const mutations: MutationKind[] = [];
  const roll = r();
  let kind: 'random' | 'mutated' | 'valid';
  let stream: Buffer;
  if (roll < 0.2) {
    kind = 'random';
    stream = randomBytes(r, randomInt(r, 300));
    // Half the time, a plausible small prefix so the bytes get past the framer into the codec.
    if (stream.length >= 4 && r() < 0.5) stream.writeUInt32BE(stream.length - 4, 0);
  } else {
    // Mostly requests (they reach the handler); now and then any type (replies must be refused).
    const frames = Array.from({ length: 1 + randomInt(r, 4) }, () =>
      validFrame(r, r() < 0.8 ? REQUEST_TYPES[randomInt(r, REQUEST_TYPES.length)] : undefined));
    stream = Buffer.concat(frames);
    if (roll < 0.85) {
      kind = 'mutated';
      const n = 1 + randomInt(r, 3);
      for (let i = 0; i < n; i++) stream = mutate(r, stream, mutations);
    } else {
      kind = 'valid';
    }
  }
  const where = `seed ${SEED_HEX} case ${index} (${kind}${mutations.length ? ` ${mutations.join('+')}` : ''}, max ${maxFrameBytes}, input ${hex(stream)})`;
  try {
    const ref = referenceFraming(stream, maxFrameBytes);
    const decoder = new FrameDecoder({ maxFrameBytes });
    const got: Buffer[] = [];
    let failure: RingwireError | null = null;
    for (const chunk of randomChunks(r, stream)) {
      try {
        got.push(...decoder.push(chunk));
      } catch (err) {
        failure = expectWireError(err, ACCEPTED_CODES, `${where} FrameDecoder.push`);
        assert.equal(decoder.bufferedBytes, 0, `${where}: a failed decoder keeps no bytes`);
        assert.throws(() => decoder.push(Buffer.from([1, 2, 3, 4, 5])), (e: unknown) => e === failure, `${where}: a failed decoder keeps failing`);
        break;
      }
      assert.ok(decoder.bufferedBytes <= maxFrameBytes + 4, `${where}: bufferedBytes ${decoder.bufferedBytes} > max + 4`);
    }
    // The oracle: chunking must not change what the stream means.
    if (ref.error !== null) {
      assert.equal(failure?.code, ref.error, `${where}: expected ${ref.error}, got ${failure?.code ?? 'no error'}`);
      assert.ok(got.length <= ref.frames.length && got.every((f, i) => f.equals(ref.frames[i]!)), `${where}: frames before the error differ`);
      if (ref.error === ErrorCode.FRAME_TOO_LARGE) stats.tooLarge++;
      else stats.protocolError++;
    } else {
      assert.equal(failure, null, `${where}: unexpected ${failure?.code}`);
      assert.equal(got.length, ref.frames.length, `${where}: frame count`);
      got.forEach((f, i) => assert.ok(f.equals(ref.frames[i]!), `${where}: frame ${i} differs`));
      assert.equal(decoder.bufferedBytes, ref.leftover, `${where}: bytes left buffered`);
      stats.clean++;
    }
    for (const [i, frame] of got.entries()) {
      stats.frames++;
      const msg = checkDecoded(frame, `${where} frame ${i}`);
      if (msg === null) stats.undecodable++;
      else stats.decoded++;
      if (kind === 'valid') assert.ok(msg !== null, `${where}: a valid frame did not decode`);
    }
    // The codec alone, on the raw bytes and on the bytes after the (maybe bogus) prefix.
    checkDecoded(stream, `${where} decodeMessage(stream)`);
    if (stream.length > 4) checkDecoded(stream.subarray(4), `${where} decodeMessage(stream[4:])`);
    stats.cases++;
  } catch (err) {
    if (err instanceof Error && !err.message.includes(`seed ${SEED_HEX} case ${index}`)) err.message = `${where}: ${err.message}`;
    throw err;
  }
}

test(`fuzz: FrameDecoder + decodeMessage, seed ${SEED_HEX}, ${DECODER_CASES} cases`, () => {
  assert.deepEqual([...GENERATED_TYPES].sort(), [...MESSAGE_TYPES].sort(), 'the generators cover every Envelope body type');
  const stats: DecoderStats = { cases: 0, frames: 0, decoded: 0, undecodable: 0, tooLarge: 0, protocolError: 0, clean: 0 };
  const started = performance.now();
  for (let i = 0; i < DECODER_CASES; i++) runDecoderCase(i, stats);
  const ms = Math.round(performance.now() - started);
  console.log(`decoder fuzz seed ${SEED_HEX}: ${JSON.stringify(stats)} in ${ms} ms`);
  assert.equal(stats.cases, DECODER_CASES);
});

/** A raw client socket that watches the server's answers. */
interface LiveProbe {
  socket: Socket;
  closedByServer: boolean;
  probeAnswered: boolean;
  replies: number;
}

function openRaw(port: number, probeReqId: number, where: string, onBadReply: (e: Error) => void): Promise<LiveProbe> {
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  socket.on('error', () => {}); // EPIPE / ECONNRESET after the server hung up: expected
  const probe: LiveProbe = { socket, closedByServer: false, probeAnswered: false, replies: 0 };
  const decoder = new FrameDecoder({});
  socket.on('data', (chunk: Buffer) => {
    try {
      for (const frame of decoder.push(chunk)) {
        const { reqId, msg } = decodeMessage(frame); // the server must only ever send valid frames
        probe.replies++;
        if (reqId === probeReqId && msg.type === 'pong') probe.probeAnswered = true;
      }
    } catch (err) {
      onBadReply(new Error(`${where}: the server sent an undecodable frame: ${String(err)}`));
      socket.destroy();
    }
  });
  socket.once('close', () => {
    probe.closedByServer = true;
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(probe));
    socket.once('error', reject);
  });
}

test(`fuzz: live PeerServer survives mutated frames after a hello, seed ${SEED_HEX}, ${LIVE_CASES} connections`, async (t) => {
  const server = new PeerServer({}, { maxFrameBytes: LIVE_MAX_FRAME });
  const port = await server.listen('127.0.0.1', 0);
  t.after(() => server.close());
  const addr = `127.0.0.1:${port}`;
  const self: PeerRef = { id: peerIdForAddr(addr), addr };
  let handled = 0;
  server.serve(self, async (req: Request): Promise<Response> => {
    handled++;
    if (req.type === 'ping') return { type: 'pong' };
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `fuzz server only answers ping, not ${req.type}`);
  });

  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  const badReplies: Error[] = [];
  let closed = 0;
  let kept = 0;
  const started = performance.now();

  const runCase = async (index: number): Promise<void> => {
    // Offset so live cases do not replay the decoder cases' streams.
    const r = caseRandom(SEED ^ 0x11fe_11fe, index);
    const mutations: MutationKind[] = [];
    // Mostly requests (they reach the handler); now and then any type (replies must be refused).
    const frames = Array.from({ length: 1 + randomInt(r, 4) }, () =>
      validFrame(r, r() < 0.8 ? REQUEST_TYPES[randomInt(r, REQUEST_TYPES.length)] : undefined));
    // Replies and a second hello are valid frames too, but not requests: the server hangs up on them.
    const allRequests = frames.every((f) => isRequest(decodeMessage(f.subarray(4)).msg));
    let body: Buffer = Buffer.concat(frames);
    const n = randomInt(r, 4); // 0 mutations now and then: a valid batch must keep the connection
    for (let i = 0; i < n; i++) body = mutate(r, body, mutations);
    const probeReqId = 0xffff_0000 + index;
    const hello = encodeFrame(encodeMessage(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null }));
    const filler = fillerToBoundary(body, LIVE_MAX_FRAME);
    const probeFrame = encodeFrame(encodeMessage(probeReqId, { type: 'ping' }));
    const stream = Buffer.concat([hello, body, filler, probeFrame]);
    const where = `live seed ${SEED_HEX} case ${index} (${mutations.join('+') || 'unmutated'}, body ${hex(body)}, filler ${filler.length} zero bytes)`;
    const probe = await openRaw(port, probeReqId, where, (e) => badReplies.push(e));
    sockets.push(probe.socket);
    for (const chunk of randomChunks(r, stream)) if (chunk.length > 0 && !probe.socket.destroyed) probe.socket.write(chunk);
    // Every stream ends on a frame boundary with a ping: the server either answers it or hangs up.
    await eventually(() => probe.closedByServer || probe.probeAnswered, { timeoutMs: 5000, intervalMs: 1, what: `${where}: pong or close` });
    if (probe.probeAnswered) kept++;
    else closed++;
    if (n === 0 && allRequests) assert.ok(probe.probeAnswered, `${where}: an unmutated batch of requests must keep the connection`);
  };

  for (let base = 0; base < LIVE_CASES; base += LIVE_CONCURRENCY) {
    const batch = [];
    for (let i = base; i < Math.min(LIVE_CASES, base + LIVE_CONCURRENCY); i++) batch.push(runCase(i));
    await Promise.all(batch);
  }
  assert.deepEqual(badReplies, [], 'the server only sends valid frames');
  // The server tracks exactly the connections it kept (closed ones are gone from its set).
  await eventually(() => server.connectionCount() === kept, { timeoutMs: 5000, intervalMs: 5, what: `server connection count ${server.connectionCount()} == kept ${kept}` });

  // A well-behaved client is still served.
  const conn = await Connection.connect(addr, { self: null });
  t.after(() => conn.close());
  const res = await conn.request({ type: 'ping' });
  assert.equal(res.type, 'pong');
  const ms = Math.round(performance.now() - started);
  console.log(`live fuzz seed ${SEED_HEX}: ${LIVE_CASES} connections, server closed ${closed}, kept ${kept}, handler calls ${handled}, in ${ms} ms`);
  assert.equal(closed + kept, LIVE_CASES);
});
