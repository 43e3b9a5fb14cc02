// bench-hotpath as a user runs it: a small ring, every get checked against the value put, and a
// report whose message and hop counts fit the routing it claims to measure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runScript } from './run-script.js';

const SCRIPT = fileURLToPath(new URL('../../bench/hotpath.js', import.meta.url));

interface Report {
  op: string;
  cache: string;
  peers: number;
  cpuUsPerOp: number;
  rounds: Array<{ cpuUsPerOp: number; messagesPerOp: number; meanHops: number }>;
}

const run = (args: string[]) => runScript(SCRIPT, args);

test('bench-hotpath reports CPU, messages and hops per get and per lookup on a 32-peer ring', async () => {
  const small = ['--peers', '32', '--ops', '300', '--rounds', '2', '--keys', '50', '--json'];
  const get = await run([...small, '--op', 'get', '--cache', 'off']);
  assert.equal(get.code, 0, get.stderr);
  const g = JSON.parse(get.stdout) as Report;
  assert.equal(g.op, 'get');
  assert.equal(g.rounds.length, 2);
  for (const r of g.rounds) {
    assert.ok(r.cpuUsPerOp > 0);
    // Without the cache a get from a random entry peer routes: some hops, never more than the
    // ring's size allows, and at least one message between peers most of the time.
    assert.ok(r.meanHops > 0.3 && r.meanHops < 5, `mean hops ${r.meanHops}`);
    assert.ok(r.messagesPerOp > 1, `messages per get ${r.messagesPerOp}`);
  }
  const lookup = await run([...small, '--op', 'lookup', '--cache', 'on']);
  assert.equal(lookup.code, 0, lookup.stderr);
  const l = JSON.parse(lookup.stdout) as Report;
  assert.equal(l.op, 'lookup');
  assert.equal(l.cache, 'on');
  // A warm cache sends a lookup straight to the owner it remembers: one hop at most.
  for (const r of l.rounds) assert.ok(r.meanHops <= 1.05, `mean hops ${r.meanHops}`);
});

test('bench-hotpath refuses a bad option and says what it takes', async () => {
  const bad = await run(['--op', 'scan']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--op get or lookup/);
  const unknown = await run(['--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /frobnicate/);
});
