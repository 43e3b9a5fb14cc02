/**
 * Micro-benchmarks (tinybench): SHA-1, ring arithmetic and the wire codec, each against a baseline.
 *   node dist/bench/micro/main.js        (or `make bench-micro`)
 * Prints an aligned table and writes bench/results/micro-latest.json:
 *   {"micro":[{"name","medianNs","baseline","ratio"}]}
 * medianNs is the median time of one operation; baseline names the row it is compared with;
 * ratio = baseline medianNs / medianNs (above 1: faster than the baseline; baseline rows are 1).
 *
 * Each tinybench iteration runs a batch of operations over a pool of pre-built inputs (cycled, so
 * neither side sees a constant input), and the per-iteration median is divided by the batch size:
 * single ring operations take nanoseconds, far below the timer's per-sample overhead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as crypto from 'node:crypto';
import { Bench } from 'tinybench';
import { createSHA1 } from 'hash-wasm';
import { SHA1_BACKEND, sha1, keyId } from '../../src/ring/hash.js';
import { addPowerOfTwo, between, betweenRightIncl, compareIds, type Id } from '../../src/ring/id.js';
import { closestPreceding } from '../../src/chord/lookup.js';
import { decodeMessage, encodeMessage } from '../../src/wire/codec.js';
import { FrameDecoder, encodeFrame, encodeFrames } from '../../src/wire/frame.js';
import type { Message, PeerRef } from '../../src/protocol/messages.js';
import {
  bigAddPowerOfTwo, bigBetween, bigBetweenRightIncl, bigClosestPrecedingFinger, bigCompare, toBig, type BigPeer,
} from './reference.js';
import { fingerFixture, nearbyId, prng, randomBytes, randomId } from './fixtures.js';

const REPO_ROOT = new URL('../../../', import.meta.url); // dist/bench/micro/main.js -> repo root
const RESULTS_DIR = new URL('bench/results/', REPO_ROOT);
const RESULTS_FILE = new URL('micro-latest.json', RESULTS_DIR);

/** Per-task time budget and warmup (ms): about 40 tasks stay well under 40 s in total. */
const TASK_MS = Number(process.env['MICRO_TASK_MS'] ?? 250);
const WARMUP_MS = Number(process.env['MICRO_WARMUP_MS'] ?? 60);

interface Case {
  name: string;
  /** Name of the baseline case (its own name for a baseline). */
  baseline: string;
  /** Operations per call of fn. */
  batch: number;
  fn: () => void;
}

export interface MicroRow {
  name: string;
  medianNs: number;
  baseline: string;
  ratio: number;
}

const cases: Case[] = [];
const notes: string[] = [];
/** Results are folded in here so the JIT cannot drop the measured work. */
let sink = 0;

function group(baseline: Case, others: Case[]): void {
  cases.push(baseline, ...others);
}

const rand = prng(0x5eed);
const POOL = 1024; // power of two: index with & (POOL - 1)

// --- SHA-1 ------------------------------------------------------------------------------------
const HAVE_CRYPTO_HASH = typeof (crypto as { hash?: unknown }).hash === 'function';
if (!HAVE_CRYPTO_HASH) notes.push(`crypto.hash is not available on Node ${process.version}: its rows are skipped`);
const SHA_BATCH = 64;
notes.push(`src/ring/hash.ts SHA-1: ${SHA1_BACKEND}; the "createSHA1() hasher" rows are hash-wasm's public API (init, update, digest)`);
const publicHasher = await createSHA1();
for (const size of [16, 32, 64]) {
  const keys: Buffer[] = [];
  for (let i = 0; i < 64; i++) keys.push(Buffer.from(randomBytes(rand, size)));
  const base = `sha1 ${size}B node:crypto createHash`;
  const others: Case[] = [
    {
      name: `sha1 ${size}B hash-wasm sha1()`, baseline: base, batch: SHA_BATCH,
      fn: () => { let acc = 0; for (let i = 0; i < SHA_BATCH; i++) acc ^= sha1(keys[i]!)[0]!; sink ^= acc; },
    },
    {
      name: `sha1 ${size}B hash-wasm createSHA1() hasher`, baseline: base, batch: SHA_BATCH,
      fn: () => { let acc = 0; for (let i = 0; i < SHA_BATCH; i++) acc ^= publicHasher.init().update(keys[i]!).digest('binary')[0]!; sink ^= acc; },
    },
  ];
  if (HAVE_CRYPTO_HASH) {
    others.push({
      name: `sha1 ${size}B node:crypto hash()`, baseline: base, batch: SHA_BATCH,
      fn: () => { let acc = 0; for (let i = 0; i < SHA_BATCH; i++) acc ^= crypto.hash('sha1', keys[i]!, 'buffer')[0]!; sink ^= acc; },
    });
  }
  group({
    name: base, baseline: base, batch: SHA_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < SHA_BATCH; i++) acc ^= crypto.createHash('sha1').update(keys[i]!).digest()[0]!; sink ^= acc; },
  }, others);
}
{
  // keyId on a string key (hash-wasm UTF-8 encodes it itself) against createHash on the same string.
  const strs: string[] = [];
  for (let i = 0; i < 64; i++) strs.push(`user:${String(i).padStart(6, '0')}:${'x'.repeat(20)}`); // 32 chars
  const base = 'keyId 32-char string node:crypto createHash';
  const others: Case[] = [
    {
      name: 'keyId 32-char string hash-wasm keyId()', baseline: base, batch: SHA_BATCH,
      fn: () => { let acc = 0; for (let i = 0; i < SHA_BATCH; i++) acc ^= keyId(strs[i]!)[0]!; sink ^= acc; },
    },
  ];
  if (HAVE_CRYPTO_HASH) {
    others.push({
      name: 'keyId 32-char string node:crypto hash()', baseline: base, batch: SHA_BATCH,
      fn: () => { let acc = 0; for (let i = 0; i < SHA_BATCH; i++) acc ^= crypto.hash('sha1', strs[i]!, 'buffer')[0]!; sink ^= acc; },
    });
  }
  group({
    name: base, baseline: base, batch: SHA_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < SHA_BATCH; i++) acc ^= crypto.createHash('sha1').update(strs[i]!, 'utf8').digest()[0]!; sink ^= acc; },
  }, others);
}

// --- ring arithmetic ---------------------------------------------------------------------------
{
  // Independent random ids, as keys and peer ids are on a real ring (they mostly differ in byte 0),
  // plus a pool of ids sharing random-length prefixes (0..20 bytes, mean 10) for a harder compare.
  const A: Id[] = [], X: Id[] = [], B: Id[] = [], P: Id[] = [];
  const powers: number[] = [];
  for (let i = 0; i < POOL; i++) {
    const a = randomId(rand);
    A.push(a);
    X.push(randomId(rand));
    B.push(randomId(rand));
    P.push(nearbyId(rand, a));
    powers.push(Math.floor(rand() * 160));
  }
  const bA = A.map(toBig), bX = X.map(toBig), bB = B.map(toBig), bP = P.map(toBig);
  const RING_BATCH = POOL;
  const M = POOL - 1;
  let k = 0;
  group({
    name: 'ring compare BigInt', baseline: 'ring compare BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) acc += bigCompare(bA[i]!, bX[i]!); sink ^= acc; },
  }, [{
    name: 'ring compareIds', baseline: 'ring compare BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) acc += compareIds(A[i]!, X[i]!); sink ^= acc; },
  }, {
    // The same batch loop with no operation in it (the two loads of the pools and a pointer test):
    // the floor under every ring row, which no representation of ids gets below. Its ratio is the
    // most any compare could show against the BigInt one on this machine.
    name: 'ring loop floor (the batch loop, no operation)', baseline: 'ring compare BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) if (A[i] === X[i]) acc++; sink ^= acc; },
  }]);
  group({
    name: 'ring compare, shared prefixes BigInt', baseline: 'ring compare, shared prefixes BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) acc += bigCompare(bA[i]!, bP[i]!); sink ^= acc; },
  }, [{
    name: 'ring compareIds, shared prefixes', baseline: 'ring compare, shared prefixes BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) acc += compareIds(A[i]!, P[i]!); sink ^= acc; },
  }]);
  group({
    name: 'ring between BigInt', baseline: 'ring between BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) if (bigBetween(bA[i]!, bX[i]!, bB[i]!)) acc++; sink ^= acc; },
  }, [{
    name: 'ring between', baseline: 'ring between BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) if (between(A[i]!, X[i]!, B[i]!)) acc++; sink ^= acc; },
  }]);
  group({
    name: 'ring betweenRightIncl BigInt', baseline: 'ring betweenRightIncl BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) if (bigBetweenRightIncl(bA[i]!, bX[i]!, bB[i]!)) acc++; sink ^= acc; },
  }, [{
    name: 'ring betweenRightIncl', baseline: 'ring betweenRightIncl BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) if (betweenRightIncl(A[i]!, X[i]!, B[i]!)) acc++; sink ^= acc; },
  }]);
  group({
    name: 'ring add 2^i BigInt', baseline: 'ring add 2^i BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) acc += Number(bigAddPowerOfTwo(bA[i]!, powers[i]!) & 1n); sink ^= acc; },
  }, [{
    name: 'ring addPowerOfTwo', baseline: 'ring add 2^i BigInt', batch: RING_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < RING_BATCH; i++) acc += addPowerOfTwo(A[i]!, powers[i]!)[19]! & 1; sink ^= acc; },
  }]);

  // Closest preceding finger over a full 160-entry table of one peer in a 1,024-peer ring.
  const fx = fingerFixture(rand, 1024);
  const bigSelf = toBig(fx.self);
  const bigOf = new Map<PeerRef, BigPeer>();
  const bigFingers = fx.fingers.map((f) => {
    let b = bigOf.get(f);
    if (!b) bigOf.set(f, (b = { id: toBig(f.id) }));
    return b;
  });
  const keys: Id[] = [];
  for (let i = 0; i < POOL; i++) keys.push(randomId(rand));
  const bKeys = keys.map(toBig);
  const NO_SUCCESSORS: PeerRef[] = [];
  const CPF_BATCH = 64;
  // The same table as routing reads it (FingerTable.routing): each run of one peer once, in
  // finger order. Both sides then scan the same ten-odd entries instead of 160 slots, so the
  // rows compare the arithmetic rather than the slot scan both share.
  const runs = fx.fingers.filter((f, i) => i === 0 || f !== fx.fingers[i - 1]);
  const bigRuns = runs.map((f) => bigOf.get(f)!);
  notes.push(`closest preceding finger: 160 fingers naming ${fx.distinct} distinct peers (1,024-peer ring); ours is src/chord/lookup.ts closestPreceding(self, key, fingers, [], 1); the "distinct runs" rows give both sides the table as FingerTable.routing holds it (${runs.length} entries)`);
  const cpf = (label: string, ours: readonly PeerRef[], big: readonly BigPeer[]): void => {
    const base = `closest preceding finger${label} BigInt`;
    group({
      name: base, baseline: base, batch: CPF_BATCH,
      fn: () => {
        let acc = 0;
        for (let i = 0; i < CPF_BATCH; i++) {
          const j = (k++) & M;
          if (bigClosestPrecedingFinger(bigSelf, bKeys[j]!, big) !== null) acc++;
        }
        sink ^= acc;
      },
    }, [{
      name: `closest preceding finger${label}`, baseline: base, batch: CPF_BATCH,
      fn: () => {
        let acc = 0;
        for (let i = 0; i < CPF_BATCH; i++) {
          const j = (k++) & M;
          if (closestPreceding(fx.self, keys[j]!, ours, NO_SUCCESSORS, 1).length > 0) acc++;
        }
        sink ^= acc;
      },
    }]);
  };
  cpf('', fx.fingers, bigFingers);
  cpf(', distinct runs', runs, bigRuns);
}

// --- codec and framing -------------------------------------------------------------------------
{
  const peer = (i: number): PeerRef => ({ id: randomId(rand), addr: `127.0.0.1:${4001 + i}` });
  const eight = Array.from({ length: 8 }, (_, i) => peer(i));
  const enc = new TextEncoder();
  const hot: Array<[string, Message]> = [
    ['findSuccessor', { type: 'findSuccessor', key: randomId(rand) }],
    ['findSuccessorReply (8 nodes)', { type: 'findSuccessorReply', done: true, nodes: eight }],
    ['get', { type: 'get', key: enc.encode('user:000123:profile') }],
    ['getReply (100B value)', { type: 'getReply', found: true, value: randomBytes(rand, 100), version: 1_733_000_000_123, hops: 3 }],
    ['put (100B value)', { type: 'put', key: enc.encode('user:000123:profile'), value: randomBytes(rand, 100) }],
    ['state (8 successors)', { type: 'state', self: peer(100), predecessor: peer(101), successors: eight }],
  ];
  const CODEC_BATCH = 16;
  let reqId = 1;
  for (const [label, msg] of hot) {
    const base = `codec ${label} JSON`;
    const obj = { reqId: 12345, msg };
    group({
      name: base, baseline: base, batch: CODEC_BATCH,
      fn: () => { let acc = 0; for (let i = 0; i < CODEC_BATCH; i++) acc += (JSON.parse(JSON.stringify(obj)) as { reqId: number }).reqId & 1; sink ^= acc; },
    }, [{
      name: `codec ${label} protobuf`, baseline: base, batch: CODEC_BATCH,
      fn: () => {
        let acc = 0;
        for (let i = 0; i < CODEC_BATCH; i++) {
          reqId = (reqId + 1) & 0x7fffffff;
          acc += decodeMessage(encodeMessage(reqId, msg)).reqId & 1;
        }
        sink ^= acc;
      },
    }]);
  }

  // Frames carry a findSuccessor envelope (the most frequent message).
  const fsMsg = hot[0]![1];
  const payload = encodeMessage(7, fsMsg);
  const FRAME_BATCH = 64;
  const frameBase = 'frame encode JSON';
  const fsObj = { reqId: 7, msg: fsMsg };
  group({
    name: frameBase, baseline: frameBase, batch: FRAME_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < FRAME_BATCH; i++) acc += JSON.parse(JSON.stringify(fsObj)).reqId & 1; sink ^= acc; },
  }, [{
    name: `frame encodeFrame (${payload.length}B payload)`, baseline: frameBase, batch: FRAME_BATCH,
    fn: () => { let acc = 0; for (let i = 0; i < FRAME_BATCH; i++) acc += encodeFrame(payload).length & 1; sink ^= acc; },
  }]);

  const FRAMES_PER_CHUNK = 64;
  const chunk = encodeFrames(Array.from({ length: FRAMES_PER_CHUNK }, () => payload));
  const decoder = new FrameDecoder();
  const many = Array.from({ length: FRAMES_PER_CHUNK }, () => fsObj);
  const pushBase = `frame push ${FRAMES_PER_CHUNK} frames JSON`;
  group({
    name: pushBase, baseline: pushBase, batch: 1,
    fn: () => { sink += (JSON.parse(JSON.stringify(many)) as unknown[]).length & 1; },
  }, [{
    name: `frame FrameDecoder.push (${FRAMES_PER_CHUNK} frames, ${chunk.length}B chunk)`, baseline: pushBase, batch: 1,
    fn: () => { sink += decoder.push(chunk).length & 1; },
  }]);
  if (decoder.bufferedBytes !== 0) throw new Error('frame chunk left a partial frame');
  notes.push('codec/frame baselines are JSON.stringify+JSON.parse of the same object (Uint8Array fields serialise as index-keyed objects); frame rows time framing only (no protobuf), against a JSON round trip of the carried message(s)');
  notes.push(`frame push rows are per chunk of ${FRAMES_PER_CHUNK} frames, not per frame`);
}

// --- run ---------------------------------------------------------------------------------------
// The machine is shared and its speed drifts over seconds, so every task runs in ROUNDS rounds
// spread over the whole run, and a row's figure is the median of its per-round medians: a slow
// stretch then hits one round of a row and its baseline alike, not one of them wholesale.
const ROUNDS = Math.max(1, Number(process.env['MICRO_ROUNDS'] ?? 3));
const perRound = new Map<string, number[]>(cases.map((c) => [c.name, []]));
const t0 = performance.now();
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({
    name: `ringwire micro, round ${round + 1}`,
    time: TASK_MS / ROUNDS,
    iterations: 16,
    warmup: true,
    warmupTime: WARMUP_MS / ROUNDS,
    warmupIterations: 4,
    timestampProvider: 'hrtimeNow',
    throws: true,
  });
  for (const c of cases) bench.add(c.name, c.fn);
  await bench.run();
  for (const c of cases) {
    const r = bench.getTask(c.name)?.result;
    if (!r || r.state !== 'completed') throw new Error(`task ${c.name} did not complete (${r?.state ?? 'missing'})`);
    perRound.get(c.name)!.push((r.latency.p50 * 1e6) / c.batch);
  }
}
const elapsedS = (performance.now() - t0) / 1000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const medianNs = new Map<string, number>(cases.map((c) => [c.name, median(perRound.get(c.name)!)]));
const rows: MicroRow[] = cases.map((c) => {
  const ns = medianNs.get(c.name)!;
  const base = medianNs.get(c.baseline)!;
  return { name: c.name, medianNs: Math.round(ns * 10) / 10, baseline: c.baseline, ratio: Math.round((base / ns) * 100) / 100 };
});

function fmtNs(ns: number): string {
  return ns >= 100 ? ns.toFixed(0) : ns >= 10 ? ns.toFixed(1) : ns.toFixed(2);
}
const header = ['name', 'median ns/op', 'vs baseline', 'baseline'];
const table = rows.map((r) => [r.name, fmtNs(r.medianNs), r.name === r.baseline ? '(baseline)' : `${r.ratio.toFixed(2)}x`, r.baseline]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
const line = (cells: string[]): string =>
  cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const t of table) console.log(line(t));
console.log(`\n${rows.length} rows in ${elapsedS.toFixed(1)} s (${ROUNDS} rounds) on Node ${process.version}; figure = median of per-round medians; ratio = baseline / row (above 1: faster)`);
for (const n of notes) console.log(`note: ${n}`);

mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(RESULTS_FILE, `${JSON.stringify({ micro: rows }, null, 2)}\n`);
console.log(`wrote ${RESULTS_FILE.pathname}`);
if (sink === 0.5) console.log(''); // keeps `sink` observable
