/** The finger table's cheap refresh rules and the step/candidate functions of lookup.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FingerTable } from '../../src/chord/finger-table.js';
import { addCandidate, closestPreceding, findSuccessorStep, type StepState } from '../../src/chord/lookup.js';
import { ID_BITS, between } from '../../src/ring/index.js';
import type { PeerRef } from '../../src/protocol/messages.js';

/** Peer at position n * 2^152 on the ring (byte 0 = n). */
function p(n: number): PeerRef {
  const id = new Uint8Array(20);
  id[0] = n;
  return { id, addr: `p${n}` };
}

test('fillUpTo settles every finger in (self, successor]; a lone peer settles all', () => {
  const self = p(0);
  const table = new FingerTable(self.id);
  // successor at 2^152: fingers 0..152 start at or before it.
  assert.equal(table.fillUpTo(p(1)), 153);
  assert.equal(table.get(152)?.addr, 'p1');
  assert.equal(table.get(153), null);
  assert.equal(new FingerTable(self.id).fillUpTo(self), ID_BITS);
});

test('fillRun gives following fingers the same owner while their start precedes it', () => {
  const table = new FingerTable(p(0).id);
  // finger 153 starts at 2*2^152; its owner at 5*2^152 also owns the starts 4*2^152 (finger 154).
  assert.equal(table.fillRun(153, p(5)), 155);
  assert.equal(table.get(154)?.addr, 'p5');
  assert.equal(table.get(155), null);
  // An owner exactly at the start settles only that finger.
  assert.equal(table.fillRun(155, p(8)), 156);
  assert.ok(table.remove(p(5).id));
  assert.equal(table.get(153), null);
  assert.deepEqual(table.distinct().map((x) => x.addr), ['p8']);
});

test('addCandidate keeps candidates sorted closest to the key first, without duplicates, capped', () => {
  const key = p(100).id;
  const out: PeerRef[] = [];
  for (const n of [10, 90, 50, 90, 70]) addCandidate(out, p(n), key, 3);
  assert.deepEqual(out.map((x) => x.addr), ['p90', 'p70', 'p50']);
});

test('closestPreceding uses fingers and the successor list, only peers in (self, key)', () => {
  const fingers: (PeerRef | null)[] = new Array(ID_BITS).fill(null);
  fingers[159] = p(128);
  fingers[158] = p(64);
  fingers[157] = p(40);
  const got = closestPreceding(p(0).id, p(100).id, fingers, [p(10), p(20)], 4);
  assert.deepEqual(got.map((x) => x.addr), ['p64', 'p40', 'p20', 'p10']);
});

test('findSuccessorStep: done within the successor list span or at (predecessor, self], else candidates', () => {
  const state: StepState = {
    self: p(50),
    predecessor: p(40),
    successors: [p(60), p(70), p(80)],
    fingers: new Array(ID_BITS).fill(null),
    r: 3,
  };
  const ask = (n: number) => findSuccessorStep(state, p(n).id);
  const start = (n: number): string | undefined => {
    const s = ask(n).rangeStart;
    return s && `p${s[0]}`;
  };
  assert.deepEqual({ ...ask(55), nodes: ask(55).nodes.map((x) => x.addr), rangeStart: start(55) }, { type: 'findSuccessorReply', done: true, nodes: ['p60', 'p70', 'p80'], rangeStart: 'p50' });
  assert.deepEqual(ask(75).nodes.map((x) => x.addr), ['p80'], 'deeper in the list: owner and what follows it');
  assert.equal(start(75), 'p70', "the owner's range starts at the entry before it");
  assert.deepEqual(ask(45).nodes.map((x) => x.addr), ['p50', 'p60', 'p70', 'p80'], 'ours');
  assert.equal(start(45), 'p40', 'our own range starts at our predecessor');
  assert.equal(ask(200).rangeStart, undefined, 'not done: no range');
  const far = ask(200);
  assert.equal(far.done, false);
  assert.deepEqual(far.nodes.map((x) => x.addr), ['p80', 'p70', 'p60']);
  // A ring smaller than r+1: the list wrapped, so the resolver itself follows the last entry.
  const small: StepState = { ...state, predecessor: p(60), successors: [p(60)] };
  assert.deepEqual(findSuccessorStep(small, p(55).id).nodes.map((x) => x.addr), ['p60', 'p50']);
  const alone: StepState = { ...state, predecessor: null, successors: [p(50)] };
  assert.deepEqual(findSuccessorStep(alone, p(7).id).nodes.map((x) => x.addr), ['p50']);
});

test('iterativeLookup gives up with LOOKUP_FAILED: all candidates dead, or a route that never ends', async () => {
  const { iterativeLookup } = await import('../../src/chord/lookup.js');
  const { FailingTransport } = await import('../../src/chord/failing-transport.js');
  const gone: string[] = [];
  const base = {
    self: p(0),
    requestTimeoutMs: 10,
    maxLookupSteps: 5,
    onPeerGone: (x: PeerRef) => gone.push(x.addr),
    isRecentlyGone: () => false,
    minFollowers: 1,
  };
  await assert.rejects(iterativeLookup({ ...base, transport: new FailingTransport() }, p(200).id, [p(10), p(20)]), { code: 'LOOKUP_FAILED' });
  assert.deepEqual(gone.sort(), ['p10', 'p20'], 'each failed candidate was reported');

  // Every peer points one step further: progress, but never done. The step bound stops it.
  let asked = 0;
  const endless = {
    async request(addr: string) {
      asked++;
      const n = Number(addr.slice(1));
      return { type: 'findSuccessorReply' as const, done: false, nodes: [p(n + 1)] };
    },
  };
  await assert.rejects(iterativeLookup({ ...base, transport: endless }, p(200).id, [p(1)]), { code: 'LOOKUP_FAILED' });
  assert.equal(asked, 5);
});

test('property: routing over the short list gives what all 160 fingers give: the best peers in (self, key)', () => {
  // Peers at random places; fingers hold runs of the same object with gaps (null), as after
  // refreshes and removals; the successor list may repeat fingers.
  const pool = Array.from({ length: 24 }, (_, i) => {
    const id = new Uint8Array(20);
    id[0] = (i * 37 + 11) & 0xff;
    id[1] = i; // two peers may share byte 0
    return { id, addr: `q${i}` };
  });
  fc.assert(
    fc.property(
      // A run's peer is sometimes a fresh copy (the same peer decoded from another reply).
      fc.array(fc.tuple(fc.integer({ min: 0, max: ID_BITS - 1 }), fc.integer({ min: 0, max: 40 }), fc.option(fc.integer({ min: 0, max: pool.length - 1 })), fc.boolean()), { maxLength: 12 }),
      fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { maxLength: 8 }),
      fc.integer({ min: 0, max: pool.length - 1 }),
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.integer({ min: 1, max: 8 }),
      (runs, succ, selfAt, key, max) => {
        const self = pool[selfAt]!;
        const table = new FingerTable(self.id);
        const copy = (x: PeerRef): PeerRef => ({ id: Uint8Array.from(x.id), addr: x.addr });
        for (const [from, len, who, fresh] of runs) for (let i = from; i < Math.min(ID_BITS, from + len); i++) table.set(i, who === null ? null : fresh ? copy(pool[who]!) : pool[who]!);
        const successors = succ.map((i) => pool[i]!);
        const viaAll = closestPreceding(self.id, key, table.all, successors, max);
        const viaRouting = closestPreceding(self.id, key, table.routing, successors, max);
        assert.deepEqual(viaRouting.map((x) => x.addr), viaAll.map((x) => x.addr));
        // The reference: every distinct peer strictly between self and key, closest to key first.
        const distinct = new Map([...table.all, ...successors].filter((x): x is PeerRef => x !== null).map((x) => [x.addr, x]));
        const inside = [...distinct.values()].filter((x) => between(self.id, x.id, key));
        inside.sort((a, b) => (between(b.id, a.id, key) ? -1 : 1));
        assert.deepEqual(viaAll.map((x) => x.addr), inside.slice(0, max).map((x) => x.addr));
      },
    ),
    { numRuns: 400, seed: 7 },
  );
});

test('the same peer decoded again is not a change: the stored entry and the routing list stay', () => {
  const table = new FingerTable(p(0).id);
  table.fillUpTo(p(10));
  table.set(100, p(90));
  const routing = table.routing;
  const before = table.get(100);
  table.set(100, p(90)); // a fresh object for the same peer
  assert.equal(table.get(100), before);
  assert.equal(table.routing, routing, 'not rebuilt');
  table.set(100, { id: p(90).id, addr: '127.0.0.1:9090' }); // same id, another address: a change
  assert.equal(table.get(100)!.addr, '127.0.0.1:9090');
  assert.notEqual(table.routing, routing);
});

test('property: closestPreceding ranks peers exactly when ids sit within a few 2^128 units of each other, of self or of the key', () => {
  // closestPreceding decides from the ids' first four bytes and compares whole ids only near unit
  // boundaries; ids offset from one base by amounts around 2^128 (and tiny and huge ones, either
  // way round the ring) hit every such case: borrows, a key just before or after self, key == self,
  // peers a whole circle away from self.
  const RING = 1n << 160n;
  const toId = (v: bigint): Uint8Array => {
    const out = new Uint8Array(20);
    let x = ((v % RING) + RING) % RING;
    for (let i = 19; i >= 0; i--) {
      out[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return out;
  };
  const offset = fc.oneof(
    fc.bigInt({ min: -(1n << 8n), max: 1n << 8n }),
    fc.bigInt({ min: -(1n << 130n), max: 1n << 130n }),
    fc.bigInt({ min: -(3n << 128n), max: 3n << 128n }).map((x) => x - (x % (1n << 120n))),
    fc.bigInt({ min: 0n, max: RING - 1n }),
  );
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: RING - 1n }),
      offset,
      fc.oneof(offset, fc.constant(0n)),
      fc.array(fc.tuple(offset, fc.integer({ min: 1, max: 30 })), { maxLength: 10 }),
      fc.array(offset, { maxLength: 8 }),
      fc.integer({ min: 1, max: 8 }),
      (base, selfOff, keyOff, fingerRuns, succOffs, max) => {
        const self = toId(base + selfOff);
        const key = toId(base + keyOff);
        let n = 0;
        const peer = (off: bigint): PeerRef => ({ id: toId(base + off), addr: `r${n++}` });
        const fingers: (PeerRef | null)[] = [];
        for (const [off, len] of fingerRuns) {
          const f = peer(off);
          for (let i = 0; i < len && fingers.length < ID_BITS; i++) fingers.push(f);
        }
        const successors = succOffs.map(peer);
        // The reference: every peer in (self, key) inserted one by one, ranked by full comparisons.
        const want: PeerRef[] = [];
        for (const x of [...fingers.filter((f): f is PeerRef => f !== null).reverse(), ...[...successors].reverse()]) {
          if (between(self, x.id, key)) addCandidate(want, x, key, max);
        }
        const got = closestPreceding(self, key, fingers, successors, max);
        assert.deepEqual(got.map((x) => x.addr), want.map((x) => x.addr));
      },
    ),
    { numRuns: 3000, seed: 11 },
  );
});
