/**
 * Alternating A/B runs of this build against another commit, the way to tell whether one change
 * helps on a machine whose speed drifts by a quarter over minutes:
 *   node dist/bench/ab.js --ref COMMIT [--rounds 5] [--peers 256] [--workers 2] [--duration 8] [--idle 8] [--hotpath [--tcp]]
 * (or `make bench-ab REF=COMMIT AB_ARGS=...`). Builds COMMIT in a temporary git worktree (sharing
 * this checkout's node_modules), then per round starts a fresh `chord cluster` of each build in turn
 * (the order flips every round), lets it idle, and runs get at concurrency 64 with the route cache
 * on and then off, through this build's `chord bench` for both. The cached run comes first so it
 * starts on a cold cache on both builds: a build whose uncached requests teach the cache (before
 * fea930f) would otherwise hand its cached run a warm one. Reports ops/s and the cluster's CPU time
 * per operation (from /proc) for every run, the medians, and in how many rounds each build was ahead.
 *
 * With `--hotpath` the rounds run `bench/hotpath.ts` instead of clusters: CPU per get above the
 * wire, in one thread (its median of 3 rounds per run), this build's harness driving each build's
 * code. Much steadier than clusters, for changes to routing, the route cache, the store or the
 * codec; "ahead" then means less CPU per get. `--hotpath --tcp` runs its loopback-TCP world
 * instead (hotpath.ts), which adds the wire and the kernel and with them much of the clusters' noise.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './args.js';
import type { BenchReport } from '../src/loadgen/stats.js';
import { CLI, chordBench, startClusterChild, type ClusterChild } from './cluster-child.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> repo root

const { values } = parseFlags({
  ref: { type: 'string' },
  rounds: { type: 'string', default: '5' },
  peers: { type: 'string', default: '256' },
  workers: { type: 'string', default: '2' },
  duration: { type: 'string', default: '8' },
  idle: { type: 'string', default: '8' },
  hotpath: { type: 'boolean', default: false },
  tcp: { type: 'boolean', default: false },
});
const numbers = { rounds: Number(values.rounds), peers: Number(values.peers), workers: Number(values.workers), duration: Number(values.duration), idle: Number(values.idle) };
if (!values.ref || Object.values(numbers).some((n) => !Number.isFinite(n) || n <= 0)) {
  process.stderr.write('bench-ab: give --ref COMMIT (e.g. make bench-ab REF=HEAD~1); --rounds, --peers, --workers, --duration and --idle must be positive numbers\n');
  process.exit(2);
}

interface Run { build: string; round: number; cache: 'off' | 'on'; opsPerSec?: number; cpuUsPerOp: number }

/** One `bench/hotpath.ts` run of the build whose dist/ is `distDir`: its median CPU µs per get. */
function hotpathRun(distDir: string, cache: 'off' | 'on'): number {
  const out = sh(process.execPath, [join(REPO_ROOT, 'dist/bench/hotpath.js'), '--json', '--peers', String(numbers.peers), '--cache', cache, '--rounds', '3', '--ops', '10000', '--dist', distDir, ...(values.tcp ? ['--tcp'] : [])], REPO_ROOT);
  return (JSON.parse(out) as { cpuUsPerOp: number }).cpuUsPerOp;
}

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const dir = mkdtempSync(join(tmpdir(), 'ringwire-ab-'));
const worktree = join(dir, 'ref');
let cluster: ClusterChild | null = null;
try {
  const commit = sh('git', ['rev-parse', '--short', values.ref], REPO_ROOT).trim();
  const head = sh('git', ['rev-parse', '--short', 'HEAD'], REPO_ROOT).trim();
  process.stderr.write(`building ${commit} in ${worktree} ...\n`);
  sh('git', ['worktree', 'add', '--detach', worktree, commit], REPO_ROOT);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(worktree, 'node_modules'));
  sh(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], worktree);
  if (existsSync(join(worktree, 'scripts/post-build.mjs'))) sh(process.execPath, ['scripts/post-build.mjs'], worktree);
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no'], REPO_ROOT).trim() !== '';
  const builds = [
    { name: `${head}${dirty ? ' + uncommitted changes' : ''} (this build)`, cli: CLI, dist: join(REPO_ROOT, 'dist') },
    { name: commit, cli: join(worktree, 'dist/cli.js'), dist: join(worktree, 'dist') },
  ];
  const runs: Run[] = [];
  for (let round = 1; round <= numbers.rounds; round++) {
    const order = round % 2 === 1 ? builds : [...builds].reverse();
    for (const build of order) {
      if (values.hotpath) {
        for (const cache of ['off', 'on'] as const) {
          const cpuUsPerOp = hotpathRun(build.dist, cache);
          runs.push({ build: build.name, round, cache, cpuUsPerOp });
          process.stderr.write(`round ${round} ${build.name} cache ${cache}: ${cpuUsPerOp} µs CPU per get above the wire\n`);
        }
        continue;
      }
      cluster = await startClusterChild(numbers.peers, numbers.workers, [], [], 1_200_000, build.cli);
      await new Promise((r) => setTimeout(r, numbers.idle * 1000));
      for (const cache of ['on', 'off'] as const) {
        const via = cluster.addrs[Math.floor(Math.random() * cluster.addrs.length)]!;
        const cpu0 = cluster.cpuMs();
        const rep = await chordBench<BenchReport>(['--via', via, '--op', 'get', '--concurrency', '64', '--duration', String(numbers.duration), ...(cache === 'off' ? ['--no-route-cache'] : [])]);
        const cpuUsPerOp = Math.round(((cluster.cpuMs() - cpu0) * 1000) / Math.max(1, rep.ops));
        runs.push({ build: build.name, round, cache, opsPerSec: Math.round(rep.opsPerSec), cpuUsPerOp });
        process.stderr.write(`round ${round} ${build.name} cache ${cache}: ${Math.round(rep.opsPerSec)} gets/s, ${cpuUsPerOp} µs host CPU per get\n`);
      }
      await cluster.stop();
      cluster = null;
    }
  }
  const summary = (['off', 'on'] as const).map((cache) => {
    const of = (b: string): Run[] => runs.filter((r) => r.build === b && r.cache === cache);
    const [a, b] = builds.map((x) => of(x.name));
    const ahead = a!.filter((r, i) => (values.hotpath ? r.cpuUsPerOp < b![i]!.cpuUsPerOp : r.opsPerSec! > b![i]!.opsPerSec!)).length;
    const medians = (rs: Run[]): Record<string, number> =>
      values.hotpath ? { medianCpuUsPerOp: median(rs.map((r) => r.cpuUsPerOp)) } : { medianOpsPerSec: median(rs.map((r) => r.opsPerSec!)), medianCpuUsPerOp: median(rs.map((r) => r.cpuUsPerOp)) };
    return { cache, [builds[0]!.name]: medians(a!), [builds[1]!.name]: medians(b!), roundsThisBuildAhead: `${ahead} of ${a!.length}` };
  });
  process.stdout.write(`${JSON.stringify({ mode: values.hotpath ? (values.tcp ? 'hotpath-tcp' : 'hotpath') : 'cluster', peers: numbers.peers, workers: numbers.workers, durationS: numbers.duration, runs, summary }, null, 2)}\n`);
} finally {
  await cluster?.stop();
  try {
    sh('git', ['worktree', 'remove', '--force', worktree], REPO_ROOT);
  } catch {
    // never created
  }
  rmSync(dir, { recursive: true, force: true });
}
