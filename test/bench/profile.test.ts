// The profile summary charges each sample's interval to the function it landed in, leaves idle
// time out, and counts only samples inside the requested window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selfTimes } from '../../bench/profile.js';

const frame = (functionName: string, url = 'file:///x/dist/src/a.js', lineNumber = 9) => ({ functionName, url, lineNumber });

test('selfTimes sums sample intervals per function, without idle, within the window', () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '', -1) },
      { id: 2, callFrame: frame('hot') },
      { id: 3, callFrame: frame('cold', 'file:///x/dist/src/b.js', 19) },
      { id: 4, callFrame: frame('(idle)', '', -1) },
    ],
    // Samples at t = 1000, 2000, 3000, 4000, 5000 us; each is charged the time until the next.
    samples: [2, 2, 3, 4, 2, 2],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
    startTime: 0,
    endTime: 6000,
  };
  const all = selfTimes([profile]);
  assert.deepEqual(all.rows.map((r) => [r.name, r.where, r.selfMs]), [['hot', 'dist/src/a.js:10', 3], ['cold', 'dist/src/b.js:20', 1]]);
  assert.equal(all.busyMs, 4);
  assert.equal(all.rows[0]!.share, 0.75);
  const late = selfTimes([profile], { fromUs: 3500, toUs: 6000 });
  assert.deepEqual(late.rows.map((r) => [r.name, r.selfMs]), [['hot', 1]]);
  assert.equal(late.wallMs, 3);
});
