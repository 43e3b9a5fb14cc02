// The simulator end to end: determinism (same seed, same result bit for bit), the oracle-built
// ring, and failure accounting, on small rings so the whole file runs in seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/sim/simulator.js';
import { parseLatency, resolveScenario, ScenarioError, type Scenario } from '../../src/sim/scenario.js';

const BUSY: Partial<Scenario> = {
  peers: 48, seed: 42, keys: 300, replicas: 3, successors: 4, crashFraction: 0.15, settlePeriods: 3,
  churnRate: 1, leaveRate: 0.5, lookups: 150, lookupRateHz: 20, retries: 1, latency: { kind: 'uniform', minMs: 1, maxMs: 40 },
};

test('the same scenario gives the same result bit for bit; another seed a different one', async () => {
  const a = await runScenario(BUSY);
  const b = await runScenario(BUSY);
  assert.deepEqual(a.result, b.result);
  assert.equal(JSON.stringify(a.result), JSON.stringify(b.result));
  assert.ok(a.result.crashed > 0 && a.result.joined > 0 && a.result.left > 0, 'the scenario exercised crashes, joins and leaves');
  const c = await runScenario({ ...BUSY, seed: 43 });
  assert.notEqual(c.result.digest, a.result.digest);
});

test('an oracle-built ring is right from the start and answers every lookup correctly', async () => {
  const rep = await runScenario({ peers: 256, seed: 9, lookups: 2000, warmupPeriods: 2 });
  assert.equal(rep.result.ringAfterWarmup.ok, true, rep.result.ringAfterWarmup.detail);
  assert.equal(rep.result.ringAfterWarmup.wrongPredecessor, 0);
  assert.equal(rep.result.requests.failed, 0);
  assert.equal(rep.result.hops.count, 2000);
  // Chord's bound: O(log N) hops; with successor lists the mean sits below ½·log2 N + 1
  assert.ok(rep.result.hops.mean <= 0.5 * Math.log2(256) + 1, `mean hops ${rep.result.hops.mean}`);
  assert.ok(rep.result.hops.max <= Math.log2(256) + 2, `max hops ${rep.result.hops.max}`);
});

test('a mass crash with one copy per key loses about the crashed fraction of keys; three copies lose far fewer', async () => {
  const base: Partial<Scenario> = { peers: 300, seed: 4, keys: 3000, crashFraction: 0.3, settlePeriods: 4, op: 'get', lookups: 600 };
  const one = await runScenario({ ...base, replicas: 1 });
  const three = await runScenario({ ...base, replicas: 3 });
  assert.ok(one.result.keys.lostFraction > 0.2 && one.result.keys.lostFraction < 0.4, `replicas 1 lost ${one.result.keys.lostFraction}`);
  assert.ok(three.result.keys.lostFraction < 0.08, `replicas 3 lost ${three.result.keys.lostFraction}`);
  // after settling, a get fails only for a lost key
  assert.ok(Math.abs(one.result.requests.failedFraction - one.result.keys.lostFraction) < 0.08);
  assert.equal(one.result.ringAtEnd.ok, true, one.result.ringAtEnd.detail);
});

test('bad scenarios are refused with the field named', () => {
  assert.throws(() => resolveScenario({ peers: 0 }), (e: unknown) => e instanceof ScenarioError && e.field === 'peers');
  assert.throws(() => resolveScenario({ crashFraction: 1.5 }), (e: unknown) => e instanceof ScenarioError && e.field === 'crashFraction');
  assert.throws(() => resolveScenario({ op: 'get', keys: 0 }), (e: unknown) => e instanceof ScenarioError && e.field === 'keys');
  assert.deepEqual(parseLatency('5..50'), { kind: 'uniform', minMs: 5, maxMs: 50 });
  assert.deepEqual(parseLatency('exp:20'), { kind: 'exponential', meanMs: 20 });
  assert.throws(() => parseLatency('50..5'), (e: unknown) => e instanceof ScenarioError && e.field === 'latency');
});
