// The wire baseline answers every request after exactly the asked number of forwards, over relays
// in worker threads, and closes everything it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBaseline, startBaseline } from '../../bench/wire/baseline.js';

test('wire baseline: relays over 2 workers answer chains of the requested length', async (t) => {
  const relays = await startBaseline(5, 2);
  t.after(() => relays.close());
  assert.equal(relays.addrs.length, 5);
  for (const forwards of [0, 3, 1.5]) {
    const r = await runBaseline(relays, { forwards, concurrency: 4, warmupS: 0.05, durationS: 0.3 });
    assert.ok(r.ops > 0, `forwards ${forwards}: requests answered`);
    assert.deepEqual(r.errors, {});
    assert.equal(r.peers, 5);
    // Fractional chains mix floor and ceil so the mean matches.
    assert.ok(Math.abs(r.meanHops - forwards) <= (Number.isInteger(forwards) ? 0 : 0.15), `mean forwards ${r.meanHops} for ${forwards}`);
  }
});
