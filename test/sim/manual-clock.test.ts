// The manual clock's ordering contract, with and without batching, on its binary heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { seededRandom } from '../../src/sim/random.js';

test('timers fire in (due time, creation order), cancelled ones never, whatever the insertion order', async () => {
  const clock = new ManualClock();
  const random = seededRandom(3);
  const fired: number[] = [];
  const want: { due: number; seq: number }[] = [];
  const handles = [];
  for (let i = 0; i < 500; i++) {
    const due = Math.floor(random() * 100);
    handles.push(clock.setTimeout(() => fired.push(i), due));
    want.push({ due, seq: i });
  }
  for (let i = 0; i < 500; i += 7) clock.clearTimeout(handles[i]!);
  assert.equal(clock.pending(), 500 - Math.ceil(500 / 7));
  await clock.advance(100);
  const expected = want.filter((w) => w.seq % 7 !== 0).sort((a, b) => a.due - b.due || a.seq - b.seq).map((w) => w.seq);
  assert.deepEqual(fired, expected);
  assert.equal(clock.pending(), 0);
  assert.equal(clock.fired, expected.length);
});

test('unbatched: continuations of one timer run before the next timer fires', async () => {
  const clock = new ManualClock();
  const log: string[] = [];
  clock.setTimeout(() => void Promise.resolve().then(() => log.push('a-then')), 5);
  clock.setTimeout(() => log.push('b'), 5);
  await clock.advance(5);
  assert.deepEqual(log, ['a-then', 'b']);
});

test('batched: every timer due at one instant fires before their continuations, later instants after', async () => {
  const clock = new ManualClock(0, { batch: true });
  const log: string[] = [];
  clock.setTimeout(() => void Promise.resolve().then(() => log.push('a-then')), 5);
  clock.setTimeout(() => log.push('b'), 5);
  clock.setTimeout(() => log.push('c'), 6);
  await clock.advance(10);
  assert.deepEqual(log, ['b', 'a-then', 'c']);
  assert.equal(clock.now(), 10);
});
