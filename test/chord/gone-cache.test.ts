/** The recently-gone memory: expiry on the injected clock, cleared by an answer, bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GONE_CACHE_MAX_ENTRIES, GoneCache } from '../../src/chord/gone-cache.js';
import { ManualClock } from '../../src/sim/manual-clock.js';

test('a gone peer is remembered for ttlMs, forgotten when it answers, and the cache is bounded', async () => {
  const clock = new ManualClock();
  const cache = new GoneCache({ clock }, { ttlMs: 3000 });
  cache.add('a:1');
  assert.ok(cache.has('a:1'));
  assert.ok(!cache.has('b:1'));
  await clock.advance(2999);
  assert.ok(cache.has('a:1'));
  await clock.advance(1);
  assert.ok(!cache.has('a:1'), 'expired');
  cache.add('a:1');
  cache.alive('a:1');
  assert.ok(!cache.has('a:1'), 'an answer clears it');
  for (let i = 0; i < GONE_CACHE_MAX_ENTRIES + 10; i++) cache.add(`p${i}:1`);
  assert.equal(cache.size, GONE_CACHE_MAX_ENTRIES);
  assert.ok(!cache.has('p0:1'), 'the oldest entries go first');
  assert.ok(cache.has(`p${GONE_CACHE_MAX_ENTRIES + 9}:1`));
});
