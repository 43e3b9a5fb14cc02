// `chord bench` against a small real TCP ring: every op runs, every answer is checked, the JSON
// report has the documented shape, and a wrong answer is counted as an error rather than success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RingClient } from '../../src/net/client.js';
import { discoverRing, ownerOf } from '../../src/loadgen/ring-map.js';
import { runClosedLoop } from '../../src/loadgen/closed-loop.js';
import { makeKeySet, makeOperation } from '../../src/loadgen/workload.js';
import { seededRandom } from '../../src/sim/random.js';
import { compareIds } from '../../src/ring/index.js';
import { startTcpRing, waitConsistent } from '../helpers/tcp-ring.js';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));
const REPORT_KEYS = ['op', 'peers', 'concurrency', 'durationS', 'ops', 'opsPerSec', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs', 'meanHops', 'p99Hops', 'errors'];

interface Run { code: number; stdout: string; stderr: string }

function chord(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('chord bench runs every op against a real ring, checks the answers and prints one JSON object', async (t) => {
  const nodes = await startTcpRing(5, t);
  await waitConsistent(nodes);
  const via = `${nodes[0]!.addr},${nodes[3]!.addr}`;
  for (const [op, extra] of [['lookup', []], ['get', []], ['put', []], ['mixed', []], ['get', ['--concurrency', '4', '--threads', '2']], ['get', ['--no-route-cache']]] as const) {
    const run = await chord(['bench', '--via', via, '--op', op, '--duration', '0.5', '--warmup', '0.2', '--keys', '50', '--value-size', '32', '--json', ...extra]);
    assert.equal(run.code, 0, `${op}: ${run.stderr}`);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'exactly one line on stdout');
    const r = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(r), REPORT_KEYS);
    assert.equal(r.op, op);
    assert.equal(r.peers, 5);
    assert.ok((r.ops as number) > 0, `${op}: some ops completed`);
    assert.ok((r.opsPerSec as number) > 0);
    assert.deepEqual(r.errors, {}, `${op}: every answer checked out`);
    assert.ok((r.p50Ms as number) > 0 && (r.p50Ms as number) <= (r.p90Ms as number) && (r.p90Ms as number) <= (r.p99Ms as number) && (r.p99Ms as number) <= (r.maxMs as number));
    // (The mean may exceed the p99 when fewer than 1% of operations take a hop.) Every peer's
    // successor list covers a 5-peer ring: an operation takes at most one confirming step.
    assert.ok(Number.isInteger(r.p99Hops) && (r.p99Hops as number) >= 0 && (r.p99Hops as number) <= 1, `${op}: p99 hops ${String(r.p99Hops)}`);
    assert.ok((r.meanHops as number) >= 0 && (r.meanHops as number) <= 1 + 1e-9, `${op}: mean hops ${String(r.meanHops)}`);
  }
});

test('a lookup whose owner differs from the walked ring is counted as WRONG_OWNER', async (t) => {
  const nodes = await startTcpRing(4, t);
  await waitConsistent(nodes);
  const client = new RingClient();
  t.after(() => client.close());
  const ring = await discoverRing(client, [nodes[1]!.addr]);
  assert.equal(ring.peers.length, 4);
  for (let i = 1; i < ring.peers.length; i++) assert.equal(compareIds(ring.peers[i - 1]!.id, ring.peers[i]!.id), -1, 'sorted by id');
  // A map missing one peer names the wrong owner for that peer's keys: the check must notice.
  // The peer left out is the one owning most keys (ids come from OS-assigned ports, so a given
  // position may own almost nothing).
  const set = makeKeySet(200, 8);
  const ownedBy = (peer: (typeof ring.peers)[number]): number => set.ids.filter((id) => ownerOf(ring, id) === peer).length;
  const missing = ring.peers.reduce((best, p) => (ownedBy(p) > ownedBy(best) ? p : best));
  const wrong = { peers: ring.peers.filter((p) => p !== missing) };
  const owned = ownedBy(missing);
  assert.ok(owned > 0, 'some keys belong to the removed peer');
  const stats = await runClosedLoop(makeOperation(client, wrong, set, 'lookup'), {
    concurrency: 2, warmupMs: 0, durationMs: 300, entries: ring.peers.map((p) => p.addr), keys: 200, random: seededRandom(7),
  });
  assert.ok(stats.ops > 0, 'keys of the other peers still check out');
  assert.ok((stats.errors.WRONG_OWNER ?? 0) > 0, 'wrong owners are counted');
  assert.deepEqual(Object.keys(stats.errors), ['WRONG_OWNER']);
});

test('chord bench rejects bad flags with a usage error naming the flag', async () => {
  for (const [args, flag] of [
    [['bench', '--op', 'get'], '--via'],
    [['bench', '--via', '127.0.0.1:1', '--op', 'scan'], '--op'],
    [['bench', '--via', '127.0.0.1:1', '--concurrency', '0'], '--concurrency'],
    [['bench', '--via', '127.0.0.1:1', '--duration', 'x'], '--duration'],
    [['bench', '--via', 'nohost', '--op', 'get'], '--via'],
  ] as const) {
    const run = await chord([...args]);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, new RegExp(flag));
  }
});
