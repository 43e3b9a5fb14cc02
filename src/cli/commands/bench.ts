/**
 * `chord bench`: a load generator against any running ring, like redis-benchmark for Redis.
 * Every answer is checked; the report gives throughput, latency percentiles, hops and errors.
 */
import { BENCH_DEFAULTS, runBench, type Progress } from '../../loadgen/bench.js';
import type { BenchReport } from '../../loadgen/stats.js';
import { BENCH_OPS, type BenchOp } from '../../loadgen/workload.js';
import { UsageError, parseAddr, parseCount, parseFlags, takePositionals } from '../args.js';
import { ExitCode, printJson, printLine } from '../output.js';

const SPEC = {
  via: { type: 'string' as const },
  op: { type: 'string' as const },
  concurrency: { type: 'string' as const },
  duration: { type: 'string' as const },
  keys: { type: 'string' as const },
  'value-size': { type: 'string' as const },
  warmup: { type: 'string' as const },
  threads: { type: 'string' as const },
  'no-route-cache': { type: 'boolean' as const },
  json: { type: 'boolean' as const },
};

/** Seconds as a positive decimal within [min, max]. */
function parseSeconds(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is out of range: give seconds from ${min} to ${max}, e.g. --${flag} 10`);
  }
  return n;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, SPEC, 'bench');
  takePositionals('bench', positionals, []);
  const str = (k: keyof typeof SPEC): string | undefined => values[k] as string | undefined;
  const viaRaw = str('via');
  if (viaRaw === undefined) throw new UsageError('--via is required: give one or more peer addresses, e.g. --via 127.0.0.1:4001,127.0.0.1:4002');
  const via = viaRaw.split(',').map((a) => parseAddr('via', a.trim()));
  const opRaw = str('op') ?? 'get';
  if (!(BENCH_OPS as readonly string[]).includes(opRaw)) {
    throw new UsageError(`--op ${JSON.stringify(opRaw)} is not an operation: use one of ${BENCH_OPS.join(', ')}`);
  }
  const op = opRaw as BenchOp;
  const concurrency = parseCount('concurrency', str('concurrency'), 1, 10_000) ?? BENCH_DEFAULTS.concurrency;
  const durationS = parseSeconds('duration', str('duration'), 0.1, 86_400) ?? BENCH_DEFAULTS.durationS;
  const warmupS = parseSeconds('warmup', str('warmup'), 0, 3600);
  const keys = parseCount('keys', str('keys'), 1, 10_000_000);
  const valueSize = parseCount('value-size', str('value-size'), 0, 1_000_000);
  const threads = parseCount('threads', str('threads'), 0, 64);
  if (threads !== undefined && threads > concurrency) {
    throw new UsageError(`--threads ${threads} is more than --concurrency ${concurrency}: each thread runs at least one loop; lower --threads`);
  }
  const json = values.json === true;

  const live = !json && process.stderr.isTTY;
  const onProgress = live
    ? (p: Progress): void => {
        process.stderr.write(`\r  ${p.elapsedS.toFixed(0).padStart(4)} s  ${String(p.ops).padStart(9)} ops  ${String(p.errors).padStart(6)} errors`);
      }
    : undefined;
  const report = await runBench({ via, op, concurrency, durationS, warmupS, keys, valueSize, threads, routeCache: values['no-route-cache'] !== true }, onProgress);
  if (live) process.stderr.write('\n');
  if (json) printJson(report);
  else printReport(report);
  const failed = Object.values(report.errors).reduce((a, b) => a + b, 0);
  return failed > 0 || report.ops === 0 ? ExitCode.ERROR : ExitCode.OK;
}

function printReport(r: BenchReport): void {
  printLine(`${r.op} on ${r.peers} peers, concurrency ${r.concurrency}, ${r.durationS} s`);
  printLine(`  ${r.ops} ops, ${r.opsPerSec} ops/s`);
  printLine(`  latency ms: p50 ${r.p50Ms}  p90 ${r.p90Ms}  p99 ${r.p99Ms}  max ${r.maxMs}`);
  printLine(`  hops: mean ${r.meanHops}  p99 ${r.p99Hops}`);
  const errs = Object.entries(r.errors);
  printLine(`  errors: ${errs.length === 0 ? 'none' : errs.map(([c, n]) => `${c} ${n}`).join(', ')}`);
}
