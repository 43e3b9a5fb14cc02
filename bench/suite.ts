/**
 * The whole benchmark (`make bench`, `make bench-quick`): for each ring size N, a `chord cluster`
 * child of N peers over 2 workers, `chord bench` (each run a fresh process) for get and lookup at
 * concurrency 1 and 64, then the wire baseline with N relays in the same worker layout and chains
 * matching each Chord run's messages; then the micro suite. Writes bench/results/latest.json (and a
 * dated copy) and SVG plots, and prints a short table.
 *   node dist/bench/suite.js --peers 16,64,256,1024 --repeats 3 --duration 5
 *   node dist/bench/suite.js --quick          (16 and 256 peers, 1 repeat, short runs)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseFlags } from './args.js';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../src/loadgen/stats.js';
import { runBaseline, startBaseline } from './wire/baseline.js';
import { chordBench, startClusterChild } from './cluster-child.js';
import { renderChart, type Series } from './plots.js';

const { values } = parseFlags({
  quick: { type: 'boolean', default: false },
  peers: { type: 'string' },
  workers: { type: 'string', default: '2' },
  repeats: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  ops: { type: 'string', default: 'get,lookup' },
  concurrency: { type: 'string', default: '1,64' },
  'skip-micro': { type: 'boolean', default: false },
  'route-cache': { type: 'string', default: 'off,on' }, // off: chord bench --no-route-cache (routing measured)
  tag: { type: 'string', default: '' }, // names this variant in the output files (latest<tag>.json)
  'stabilize-ms': { type: 'string' }, // default: the host's own choice for each size
  // Seconds of unrecorded get load with the route cache before a size's cached runs; default N/100,
  // at least 2 and at most 10 (0: none, the cached runs then include the cache's warm-up).
  'cache-warmup': { type: 'string' },
  // Seconds of unrecorded get load without the cache before a size's first recorded run; the same
  // default, but none with --quick (0: none, the first runs then measure the ring as it settles).
  'ring-warmup': { type: 'string' },
});
const quick = values.quick === true;
const sizes = (values.peers ?? (quick ? '16,256' : '16,64,256,1024')).split(',').map(Number);
const workers = Number(values.workers);
const repeats = Number(values.repeats ?? (quick ? 1 : 3));
const durationS = Number(values.duration ?? (quick ? 1 : 5));
const warmupS = Number(values.warmup ?? (quick ? 0.3 : 1));
const ops = values.ops.split(',');
const concurrencies = values.concurrency.split(',').map(Number);
const routeCaches = values['route-cache'].split(',').map((v) => {
  if (v !== 'on' && v !== 'off') throw new Error(`--route-cache takes on, off or both as "off,on", got ${v}`);
  return v === 'on';
});
const tag = values.tag;
/** A warm-up flag's seconds (0 or more), or undefined when it was not given. */
function secondsFlag(name: 'cache-warmup' | 'ring-warmup'): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const s = Number(v);
  if (!(s >= 0)) throw new Error(`--${name} takes seconds (0 or more), got ${v}`);
  return s;
}
const cacheWarmupFlag = secondsFlag('cache-warmup');
const ringWarmupFlag = secondsFlag('ring-warmup');
const defaultWarmupS = (n: number): number => (quick ? 1 : Math.min(10, Math.max(2, Math.round(n / 100))));
const cacheWarmupS = (n: number): number => cacheWarmupFlag ?? defaultWarmupS(n);
// None by default in --quick: the whole quick run has to stay under 90 s, and with it it took 89.
const ringWarmupS = (n: number): number => ringWarmupFlag ?? (quick ? 0 : defaultWarmupS(n));
const clusterArgs = values['stabilize-ms'] ? ['--stabilize-ms', values['stabilize-ms']] : [];

const ROOT = new URL('../../', import.meta.url); // dist/bench/suite.js -> repo root
const RESULTS = new URL('bench/results/', ROOT);
mkdirSync(RESULTS, { recursive: true });

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r2 = (v: number): number => Math.round(v * 100) / 100;
const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

interface Run extends BenchReport { workers: number; repeat: number; routeCache: boolean }
interface Summary {
  peers: number; op: string; concurrency: number; routeCache: boolean;
  opsPerSec: number; p50Ms: number; p90Ms: number; p99Ms: number; meanHops: number; p99Hops: number; errors: number;
  baselineForwards: number; baselineOpsPerSec: number; baselineP50Ms: number; baselineP99Ms: number;
  fractionOfBaseline: number;
}

const t0 = performance.now();
const runs: Run[] = [];
const baselineRuns: Array<BenchReport & { workers: number; repeat: number; forwards: number; forOp: string; forRouteCache: boolean }> = [];
const summaries: Summary[] = [];
const failedRuns: Array<{ peers: number; op: string; concurrency: number; routeCache: boolean; repeat: number; message: string }> = [];
const density: Array<{ peers: number; workers: number; readyS: number; rssMiB: number }> = [];

for (const n of sizes) {
  log(`cluster of ${n} peers over ${workers} workers: starting`);
  const cluster = await startClusterChild(n, workers, [], clusterArgs);
  const rss = cluster.rssMiB();
  density.push({ peers: n, workers, readyS: r2(cluster.readyMs / 1000), rssMiB: rss });
  log(`ready in ${(cluster.readyMs / 1000).toFixed(1)} s, RSS ${rss} MiB`);
  const via = cluster.addrs.slice(0, 3).join(',');
  const mine: Run[] = [];
  try {
    for (const rc of routeCaches) {
      // Every recorded run measures a ring that has been serving for a while. Right after ready a
      // ring is still settling (at 1,024 peers its maintenance takes about half a core for 10-20 s),
      // and a size's first c=1 runs came out at half the throughput of its later ones; so the first
      // recorded run follows unrecorded get load without the cache, which teaches no cache. The
      // cached runs then measure entry peers whose caches have learned the owners' ranges, which
      // takes each of N entry peers about N/9 routed requests (nine ranges per miss): another
      // unrecorded warm-up, with the cache.
      const warmS = rc ? cacheWarmupS(n) : mine.length === 0 ? ringWarmupS(n) : 0;
      if (warmS > 0) {
        const what = rc ? 'route cache warm-up' : 'ring warm-up';
        try {
          const w = await chordBench<BenchReport>(['--via', via, '--op', 'get', '--concurrency', '64', '--duration', String(warmS), '--warmup', '0', ...(rc ? [] : ['--no-route-cache'])]);
          log(`N=${n} ${what} (not recorded): ${warmS} s of get c=64, ${w.opsPerSec} ops/s, mean hops ${w.meanHops}`);
        } catch (err) {
          // Like a failed run: logged, and the recorded runs go on (the first of them then warms).
          log(`N=${n} ${what} FAILED: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      for (const op of ops) {
        for (const c of concurrencies) {
          for (let rep = 0; rep < repeats; rep++) {
            const args = ['--via', via, '--op', op, '--concurrency', String(c), '--duration', String(durationS), '--warmup', String(warmupS)];
            let r: BenchReport;
            try {
              r = await chordBench<BenchReport>(rc ? args : [...args, '--no-route-cache']);
            } catch (err) {
              // One failed run (e.g. a preload that timed out on an overloaded host) is recorded, not fatal.
              const message = err instanceof Error ? err.message : String(err);
              failedRuns.push({ peers: n, op, concurrency: c, routeCache: rc, repeat: rep, message });
              log(`N=${n} ${op} c=${c} cache ${rc ? 'on' : 'off'} #${rep + 1}: FAILED ${message}`);
              continue;
            }
            const run = { ...r, workers, repeat: rep, routeCache: rc };
            runs.push(run);
            mine.push(run);
            log(`N=${n} ${op} c=${c} cache ${rc ? 'on' : 'off'} #${rep + 1}: ${r.opsPerSec} ops/s p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms hops ${r.meanHops}${Object.keys(r.errors).length ? ` errors ${JSON.stringify(r.errors)}` : ''}`);
          }
        }
      }
    }
  } finally {
    const code = await cluster.stop();
    log(`cluster stopped (exit ${code})`);
  }

  // The wire baseline: same N, same worker layout, chains with the same messages per operation
  // (a chain of F forwards with answers back along it is 2F + 2 messages). Without the route cache
  // a lookup is recursive: the client's request, one RouteLookup per hop, the RouteDone and the
  // client's answer (hops + 3); a get's lookup ends at the owner, which reads (hops + 4). With the
  // cache warm an operation is request/response: 2 per hop, plus one exchange for a get's read.
  const relays = await startBaseline(n, workers);
  try {
    for (const rc of routeCaches) for (const op of ops) {
      for (const c of concurrencies) {
        const chord = mine.filter((r) => r.op === op && r.concurrency === c && r.routeCache === rc);
        if (chord.length === 0) continue; // every run of this configuration failed (see failedRuns)
        const hops = median(chord.map((r) => r.meanHops));
        const messages = rc ? 2 * hops + 2 + (op === 'lookup' ? 0 : 2) : hops + 3 + (op === 'lookup' ? 0 : 1);
        const forwards = (messages - 2) / 2;
        const base: BenchReport[] = [];
        for (let rep = 0; rep < repeats; rep++) {
          const b = await runBaseline(relays, { forwards, concurrency: c, durationS, warmupS, op: `wire(${op})`, seed: rep + 1 });
          base.push(b);
          baselineRuns.push({ ...b, workers, repeat: rep, forwards: r2(forwards), forOp: op, forRouteCache: rc });
          log(`N=${n} wire baseline for ${op} c=${c} cache ${rc ? 'on' : 'off'} (${forwards.toFixed(2)} forwards) #${rep + 1}: ${b.opsPerSec} ops/s p50 ${b.p50Ms} ms p99 ${b.p99Ms} ms`);
        }
        const ops_ = median(chord.map((r) => r.opsPerSec));
        const bOps = median(base.map((b) => b.opsPerSec));
        summaries.push({
          peers: n, op, concurrency: c, routeCache: rc,
          opsPerSec: Math.round(ops_),
          p50Ms: r2(median(chord.map((r) => r.p50Ms))),
          p90Ms: r2(median(chord.map((r) => r.p90Ms))),
          p99Ms: r2(median(chord.map((r) => r.p99Ms))),
          meanHops: r2(hops),
          p99Hops: median(chord.map((r) => r.p99Hops)),
          errors: chord.reduce((a, r) => a + Object.values(r.errors).reduce((x, y) => x + y, 0), 0),
          baselineForwards: r2(forwards),
          baselineOpsPerSec: Math.round(bOps),
          baselineP50Ms: r2(median(base.map((b) => b.p50Ms))),
          baselineP99Ms: r2(median(base.map((b) => b.p99Ms))),
          fractionOfBaseline: bOps > 0 ? r2(ops_ / bOps) : 0,
        });
      }
    }
  } finally {
    await relays.close();
  }
}

// The micro suite in its own process (a fresh heap, nothing else running in it).
let micro: unknown[] = [];
if (!values['skip-micro']) {
  log('micro suite');
  const env = { ...process.env, ...(quick ? { MICRO_TASK_MS: '60', MICRO_WARMUP_MS: '20' } : {}) };
  const res = spawnSync(process.execPath, [fileURLToPath(new URL('micro/main.js', import.meta.url))], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (res.status !== 0) throw new Error(`micro suite exited with ${res.status}`);
  micro = (JSON.parse(readFileSync(new URL('micro-latest.json', RESULTS), 'utf8')) as { micro: unknown[] }).micro;
}

// Density: process RSS at ready, and the marginal RSS per peer between the smallest and each size.
const smallest = density[0]!;
const densityRows = density.map((d) => ({
  ...d,
  marginalMiBPerPeer: d.peers > smallest.peers ? r2((d.rssMiB - smallest.rssMiB) / (d.peers - smallest.peers)) : null,
}));

const result = {
  date: new Date().toISOString(),
  node: process.version,
  command: process.argv.slice(2).join(' '),
  settings: { sizes, workers, repeats, durationS, warmupS, ops, concurrencies, routeCaches, stabilizeMs: values['stabilize-ms'] ?? 'host default', cacheWarmupS: Object.fromEntries(sizes.map((n) => [n, cacheWarmupS(n)])), ringWarmupS: Object.fromEntries(sizes.map((n) => [n, ringWarmupS(n)])) },
  micro,
  runs,
  summary: summaries,
  baselineRuns,
  failedRuns,
  density: densityRows,
  elapsedS: Math.round((performance.now() - t0) / 1000),
};
const stamp = result.date.slice(0, 19).replace(/[:T]/g, '-');
const latest = new URL(`latest${tag}.json`, RESULTS);
writeFileSync(latest, JSON.stringify(result, null, 2) + '\n');
copyFileSync(latest, new URL(`${stamp}${tag}.json`, RESULTS));

// Plots.
const rcName = (rc: boolean): string => (rc ? 'cache on' : 'cache off');
const seriesOf = (op: string, c: number, rc: boolean, pick: (s: Summary) => number, label: string, dashed = false): Series => ({
  label, dashed, points: summaries.filter((s) => s.op === op && s.concurrency === c && s.routeCache === rc).map((s) => [s.peers, pick(s)]),
});
const hiC = concurrencies[concurrencies.length - 1]!;
const loC = concurrencies[0]!;
const offFirst = [...routeCaches].sort((a, b) => Number(a) - Number(b));
const throughput: Series[] = [];
for (const rc of offFirst) for (const op of ops) throughput.push(seriesOf(op, hiC, rc, (s) => s.opsPerSec, `${op} ${rcName(rc)}`));
for (const op of ops) throughput.push(seriesOf(op, hiC, offFirst[0]!, (s) => s.baselineOpsPerSec, `wire for ${op} ${rcName(offFirst[0]!)}`, true));
writeFileSync(new URL(`throughput${tag}.svg`, RESULTS), renderChart({ title: `Throughput vs ring size (concurrency ${hiC})`, xLabel: 'peers (N)', yLabel: 'ops/s (median)', series: throughput }));
const hopSeries: Series[] = [];
for (const rc of offFirst) for (const op of ops) hopSeries.push(seriesOf(op, loC, rc, (s) => s.meanHops, `${op} ${rcName(rc)}`));
hopSeries.push({ label: '½·log2 N', dashed: true, points: sizes.map((n) => [n, 0.5 * Math.log2(n)]) });
writeFileSync(new URL(`hops${tag}.svg`, RESULTS), renderChart({ title: `Mean hops vs ring size (concurrency ${loC})`, xLabel: 'peers (N)', yLabel: 'hops', series: hopSeries }));
const lat: Series[] = [];
const latOp = ops[0]!;
const rc0 = offFirst[0]!;
lat.push(seriesOf(latOp, loC, rc0, (s) => s.p50Ms, `p50 ${rcName(rc0)}`));
lat.push(seriesOf(latOp, loC, rc0, (s) => s.p90Ms, `p90 ${rcName(rc0)}`));
lat.push(seriesOf(latOp, loC, rc0, (s) => s.p99Ms, `p99 ${rcName(rc0)}`));
if (offFirst.length > 1) {
  lat.push(seriesOf(latOp, loC, true, (s) => s.p50Ms, 'p50 cache on'));
  lat.push(seriesOf(latOp, loC, true, (s) => s.p99Ms, 'p99 cache on'));
}
lat.push(seriesOf(latOp, loC, rc0, (s) => s.baselineP50Ms, 'wire p50', true));
lat.push(seriesOf(latOp, loC, rc0, (s) => s.baselineP99Ms, 'wire p99', true));
writeFileSync(new URL(`latency${tag}.svg`, RESULTS), renderChart({ title: `${latOp} latency vs ring size (concurrency ${loC})`, xLabel: 'peers (N)', yLabel: 'ms (log scale)', series: lat, logY: true }));

// The short table.
const head = ['peers', 'op', 'cache', 'conc', 'ops/s', 'p50 ms', 'p99 ms', 'hops', '½log2N', 'wire ops/s', 'fraction', 'wire p50', 'wire p99', 'errors'];
const rows = summaries.map((s) => [s.peers, s.op, s.routeCache ? 'on' : 'off', s.concurrency, s.opsPerSec, s.p50Ms, s.p99Ms, s.meanHops, r2(0.5 * Math.log2(s.peers)), s.baselineOpsPerSec, s.fractionOfBaseline, s.baselineP50Ms, s.baselineP99Ms, s.errors].map(String));
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmtRow = (r: string[]): string => r.map((c, i) => (i === 1 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(fmtRow(head));
for (const r of rows) console.log(fmtRow(r));
console.log(`\nmedians of ${repeats} run(s) of ${durationS} s each (after ${warmupS} s warm-up); fraction = ops/s over the wire baseline's`);
for (const f of failedRuns) console.log(`FAILED run: ${f.peers} peers ${f.op} c=${f.concurrency} cache ${f.routeCache ? 'on' : 'off'} #${f.repeat + 1}: ${f.message}`);
for (const d of densityRows) console.log(`density: ${d.peers} peers ready in ${d.readyS} s, RSS ${d.rssMiB} MiB${d.marginalMiBPerPeer !== null ? `, ${d.marginalMiBPerPeer} MiB per extra peer` : ''}`);
console.log(`wrote ${fileURLToPath(latest)} and ${['throughput', 'hops', 'latency'].map((p) => `${p}${tag}.svg`).join(', ')} in ${result.elapsedS} s`);
