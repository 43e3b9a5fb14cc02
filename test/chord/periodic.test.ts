/**
 * PeriodicSteps' timer grid: with gridMs set, every run falls due on a multiple of the grid, so
 * many peers' steps in one thread share a wake-up; without it, a step runs one period after the
 * last run ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeriodicSteps } from '../../src/chord/periodic.js';
import { silentLogger } from '../../src/log/logger.js';
import { ManualClock } from '../../src/sim/manual-clock.js';

async function runTimes(startMs: number, periodMs: number, gridMs: number | undefined, untilMs: number): Promise<number[]> {
  const clock = new ManualClock(startMs);
  const steps = new PeriodicSteps<'tick'>({ clock, log: silentLogger }, gridMs === undefined ? {} : { gridMs });
  const times: number[] = [];
  steps.start({ tick: { periodMs, run: async () => void times.push(clock.now()) } });
  try {
    while (clock.now() < untilMs) await clock.advance(1);
  } finally {
    steps.stop();
  }
  return times;
}

test('without a grid a step runs every period from its start', async () => {
  assert.deepEqual(await runTimes(7, 100, undefined, 400), [107, 207, 307]);
});

test('with a grid every run falls due on a multiple of it, at most a grid step late', async () => {
  const times = await runTimes(7, 100, 25, 500);
  assert.deepEqual(times, [125, 225, 325, 425]);
  // Steps of different peers started at different moments meet on the same grid points.
  const other = await runTimes(19, 100, 25, 500);
  assert.deepEqual(other, [125, 225, 325, 425]);
  const slower = await runTimes(3, 150, 25, 500);
  assert.deepEqual(slower, [175, 325, 475]);
});
