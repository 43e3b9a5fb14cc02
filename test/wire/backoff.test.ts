import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingwireError } from '../../src/errors/errors.js';
import { BACKOFF_DEFAULTS, backoffCeilingMs, backoffDelayMs } from '../../src/wire/index.js';
import type { Jitter } from '../../src/wire/index.js';

const opts = { baseMs: 50, maxMs: 2000 };

test('the ceiling doubles per failure from baseMs and stops at maxMs', () => {
  const table: Array<[number, number]> = [
    [0, 50], [1, 100], [2, 200], [3, 400], [4, 800], [5, 1600], [6, 2000], [7, 2000], [50, 2000],
    [1e6, 2000], [Infinity, 2000],
    // Nonsense attempts count as the first failure.
    [-3, 50], [NaN, 50], [2.9, 200],
  ];
  for (const [attempt, want] of table) assert.equal(backoffCeilingMs(attempt, opts), want, `attempt ${attempt}`);
});

test('degenerate settings give no backoff or a flat one, never NaN', () => {
  assert.equal(backoffCeilingMs(5, { baseMs: 0, maxMs: 2000 }), 0);
  assert.equal(backoffCeilingMs(5, { baseMs: 50, maxMs: 0 }), 0);
  assert.equal(backoffCeilingMs(0, { baseMs: 500, maxMs: 100 }), 100);
  assert.equal(backoffDelayMs(3, { baseMs: 0, maxMs: 0, jitter: 'full' }, () => 0.5), 0);
});

test('jitter spreads the delay below the ceiling', () => {
  const table: Array<[Jitter, number, number, number]> = [
    // jitter, attempt, random(), delay
    ['none', 0, 0.9, 50],
    ['none', 3, 0.1, 400],
    ['full', 3, 0, 0],
    ['full', 3, 0.5, 200],
    ['full', 3, 0.999, 399],
    ['equal', 3, 0, 200],
    ['equal', 3, 0.5, 300],
    ['equal', 3, 0.999, 399],
    ['equal', 10, 0, 1000],
    ['equal', 10, 0.999, 1999],
  ];
  for (const [jitter, attempt, r, want] of table) {
    assert.equal(backoffDelayMs(attempt, { ...opts, jitter }, () => r), want, `${jitter} attempt ${attempt} r=${r}`);
  }
});

test('a random source outside [0, 1) cannot push the delay past the ceiling', () => {
  for (const r of [1, 5, -1, NaN]) {
    const d = backoffDelayMs(2, { ...opts, jitter: 'full' }, () => r);
    assert.ok(d >= 0 && d < 200, `r=${r} gave ${d}`);
  }
});

test('the pool defaults are 50 ms growing to 2 s with equal jitter', () => {
  assert.deepEqual({ ...BACKOFF_DEFAULTS }, { baseMs: 50, maxMs: 2000, jitter: 'equal' });
});

test('invalid settings are refused', () => {
  for (const bad of [{ baseMs: -1, maxMs: 10 }, { baseMs: 1, maxMs: Infinity }, { baseMs: NaN, maxMs: 1 }]) {
    assert.throws(() => backoffDelayMs(0, { ...bad, jitter: 'full' }, Math.random), RingwireError);
  }
  assert.throws(() => backoffDelayMs(0, { ...opts, jitter: 'weird' as Jitter }, Math.random), RingwireError);
});
