// The route cache on its own: ranges found by binary search (with wrap-around), never overlapping,
// newest knowledge winning, bounded in size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RouteCache, type CachedRoute } from '../../src/chord/route-cache.js';
import { betweenRightIncl, idEquals, type Id } from '../../src/ring/id.js';

const id = (b: number): Id => {
  const out = new Uint8Array(20);
  out[0] = b;
  return out;
};
const route = (start: number, end: number): CachedRoute => ({ start: id(start), owner: { id: id(end), addr: `p${end}` }, followers: [] });
const owner = (r: CachedRoute | undefined): string | undefined => r?.owner.addr;

test('finds the range holding a key, including the range that wraps past zero', () => {
  const c = new RouteCache();
  c.insert(route(10, 20));
  c.insert(route(20, 40));
  c.insert(route(200, 5));
  assert.equal(owner(c.find(id(15))), 'p20');
  assert.equal(owner(c.find(id(20))), 'p20', 'the owner id itself is in its range');
  assert.equal(owner(c.find(id(21))), 'p40');
  assert.equal(owner(c.find(id(250))), 'p5', 'after the last owner: the wrapping range');
  assert.equal(owner(c.find(id(3))), 'p5');
  assert.equal(c.find(id(10)), undefined, 'the range start is not in the range');
  assert.equal(c.find(id(100)), undefined, 'a gap between cached ranges is a miss');
});

test('a newer range replaces what it overlaps; forgetting an owner drops its ranges', () => {
  const c = new RouteCache();
  c.insert(route(10, 30));
  c.insert(route(30, 50));
  c.insert(route(20, 30)); // a peer joined at 20: the old (10, 30] is gone
  assert.equal(c.size, 2);
  assert.equal(c.find(id(15)), undefined);
  assert.equal(owner(c.find(id(25))), 'p30');
  c.forgetOwner({ id: id(50), addr: 'p50' });
  assert.equal(c.find(id(40)), undefined);
  c.insert(route(7, 7)); // a lone peer's whole ring: never cached
  assert.equal(c.size, 1);
});

test('relearning a range keeps the stored followers unless they changed', () => {
  // A reply's peers are views into a socket read: keeping an equal new list in a long-lived entry
  // would hold that whole read in memory until the next refresh.
  const c = new RouteCache();
  const followers = () => [{ id: id(30), addr: 'p30' }, { id: id(40), addr: 'p40' }];
  c.insert({ ...route(10, 20), followers: followers() });
  const stored = c.find(id(15))!.followers;
  assert.equal(c.insert({ ...route(10, 20), followers: followers() }), false, 'nothing new learned');
  assert.equal(c.find(id(15))!.followers, stored, 'the equal list is not swapped in');
  const moved = [{ id: id(30), addr: 'p30' }, { id: id(40), addr: '127.0.0.1:4040' }];
  c.insert({ ...route(10, 20), followers: moved });
  assert.deepEqual(c.find(id(15))!.followers, moved, 'a changed address is taken');
  const grown = [...moved, { id: id(50), addr: 'p50' }];
  c.insert({ ...route(10, 20), followers: grown });
  assert.deepEqual(c.find(id(15))!.followers, grown, 'a longer list is taken');
});

test('the oldest entry goes when the cache is full', () => {
  const c = new RouteCache(3);
  for (const [s, e] of [[0, 10], [10, 20], [20, 30], [30, 40]] as const) c.insert(route(s, e));
  assert.equal(c.size, 3);
  assert.equal(c.find(id(5)), undefined);
  assert.equal(owner(c.find(id(35))), 'p40');
});

/**
 * Inserts random ranges and checks the cache against a model: drop what a new range overlaps,
 * then add it. `at` builds the ids: with the varying byte first, searches decide on the leading
 * 32 bits; with it last, every id shares them and each search falls back to the full compare.
 */
function checkAgainstModel(at: (b: number) => Id): void {
  const mk = (start: number, end: number): CachedRoute => ({ start: at(start), owner: { id: at(end), addr: `p${end}` }, followers: [] });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }), fc.integer({ min: 0, max: 255 }), (ranges, probe) => {
      const c = new RouteCache();
      const model: CachedRoute[] = [];
      for (const [s, e] of ranges) {
        const r = mk(s, e);
        c.insert(r);
        if (s === e) continue;
        const inR = (x: CachedRoute, k: Id): boolean => betweenRightIncl(x.start, k, x.owner.id);
        for (let i = model.length - 1; i >= 0; i--) {
          const m = model[i]!;
          if (idEquals(m.owner.id, r.owner.id) || inR(m, r.owner.id) || inR(r, m.owner.id)) model.splice(i, 1);
        }
        model.push(r);
      }
      const hits = model.filter((m) => betweenRightIncl(m.start, at(probe), m.owner.id));
      assert.ok(hits.length <= 1, 'model ranges are disjoint');
      assert.equal(owner(c.find(at(probe))), owner(hits[0]));
      assert.equal(c.size, model.length);
    }),
    { numRuns: 500, seed: 42 },
  );
}

test('property: entries never overlap and find agrees with a linear scan of the newest ranges', () => {
  checkAgainstModel(id);
});

test('property: the same with ids that agree in their first 32 bits (searches decide on the rest)', () => {
  checkAgainstModel((b) => {
    const out = new Uint8Array(20).fill(0x5a);
    out[19] = b;
    return out;
  });
});
