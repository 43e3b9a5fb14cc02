/**
 * `make profile`: a 256-peer `chord cluster` child run with `node --cpu-prof` (every thread of the
 * host writes its own .cpuprofile), `chord bench` load against it, then a graceful stop so the
 * profiles are written, and the ten heaviest functions by self time over all the host's threads.
 *   node dist/bench/profile.js --peers 256 --workers 2 --op get --concurrency 64 --duration 15
 * The .cpuprofile files land in bench/results/profile-<date>/ (open them in Chrome DevTools).
 * Only samples inside a window are counted: V8's sample times and process.hrtime are both the
 * machine's monotonic clock, so the load window measured here selects the child's samples. An idle
 * window of the same ring (maintenance only) is reported too, for comparison.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { parseFlags } from './args.js';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../src/loadgen/stats.js';
import { chordBench, startClusterChild } from './cluster-child.js';

/** The parts of the V8 .cpuprofile format this reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime { name: string; where: string; selfMs: number; share: number }

/**
 * Self time per function over all `profiles`: each sample's time delta is charged to the node it
 * landed in, and nodes are grouped by function name + script + line. "(idle)" is left out: it is
 * time the thread waited, not work.
 */
export function selfTimes(profiles: CpuProfile[], window?: { fromUs: number; toUs: number }): { rows: SelfTime[]; busyMs: number; wallMs: number } {
  const byKey = new Map<string, SelfTime>();
  let busyUs = 0;
  for (const p of profiles) {
    const frameOf = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      // timeDeltas[i + 1] is the time until the next sample: charge it to this one.
      const dt = p.timeDeltas[i + 1] ?? 0;
      if (window && (t < window.fromUs || t > window.toUs)) continue;
      const f = frameOf.get(p.samples[i]!);
      if (!f || f.functionName === '(idle)') continue;
      busyUs += dt;
      const file = f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
      const where = f.url ? `${file}:${f.lineNumber + 1}` : '';
      const name = f.functionName || '(anonymous)';
      const key = `${name}|${where}`;
      let row = byKey.get(key);
      if (!row) byKey.set(key, (row = { name, where, selfMs: 0, share: 0 }));
      row.selfMs += dt / 1000;
    }
  }
  const rows = [...byKey.values()].sort((a, b) => b.selfMs - a.selfMs);
  for (const r of rows) {
    r.share = busyUs > 0 ? r.selfMs / (busyUs / 1000) : 0;
    r.selfMs = Math.round(r.selfMs);
  }
  const wallMs = window ? Math.round((window.toUs - window.fromUs) / 1000) : 0;
  return { rows, busyMs: Math.round(busyUs / 1000), wallMs };
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseFlags({
    peers: { type: 'string', default: '256' },
    workers: { type: 'string', default: '2' },
    op: { type: 'string', default: 'get' },
    concurrency: { type: 'string', default: '64' },
    duration: { type: 'string', default: '15' },
    top: { type: 'string', default: '10' },
    dir: { type: 'string' },
    'stabilize-ms': { type: 'string' }, // default: the host's own choice for this size
    'no-route-cache': { type: 'boolean', default: false },
  });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const dir = values.dir ?? fileURLToPath(new URL(`../../bench/results/profile-${stamp}/`, import.meta.url));
  mkdirSync(dir, { recursive: true });
  const peers = Number(values.peers);
  process.stderr.write(`profiling a ${peers}-peer cluster (node --cpu-prof, profiles in ${dir})\n`);
  const cluster = await startClusterChild(peers, Number(values.workers), ['--cpu-prof', '--cpu-prof-dir', dir], values['stabilize-ms'] ? ['--stabilize-ms', values['stabilize-ms']] : []);
  let report: BenchReport;
  const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
  const idleS = 5;
  let idle = { fromUs: 0, toUs: 0 };
  let load = { fromUs: 0, toUs: 0 };
  try {
    process.stderr.write(`ready in ${(cluster.readyMs / 1000).toFixed(1)} s; ${idleS} s idle, then chord bench --op ${values.op} --concurrency ${values.concurrency} --duration ${values.duration}\n`);
    idle.fromUs = nowUs();
    await new Promise((r) => setTimeout(r, idleS * 1000));
    idle.toUs = nowUs();
    load.fromUs = nowUs();
    report = await chordBench<BenchReport>(['--via', cluster.addrs.slice(0, 3).join(','), '--op', values.op, '--concurrency', values.concurrency, '--duration', values.duration, ...(values['no-route-cache'] ? ['--no-route-cache'] : [])]);
    load.toUs = nowUs();
  } finally {
    await cluster.stop();
  }
  console.log(`load: ${JSON.stringify(report)}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const profiles = files.map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as CpuProfile);
  const top = Number(values.top);
  for (const [label, window] of [['under load (ring walk, preload, warm-up and measured run)', load], ['idle ring (maintenance only)', idle]] as const) {
    const { rows, busyMs, wallMs } = selfTimes(profiles, window);
    console.log(`\n${label}: ${files.length} thread profiles, ${busyMs} ms busy in ${wallMs} ms wall (${(busyMs / wallMs).toFixed(2)} cores; idle excluded)`);
    console.log(`${'self ms'.padStart(8)}  ${'share'.padStart(6)}  function  (where)`);
    for (const r of rows.slice(0, top)) {
      console.log(`${String(r.selfMs).padStart(8)}  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.name}  ${r.where ? `(${r.where})` : ''}`);
    }
  }
}
