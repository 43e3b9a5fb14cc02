/**
 * `chord sim`: runs the deterministic simulator (src/sim) from flags or a small JSON scenario
 * file, and prints a summary, or the whole report with --json. The same flags and seed give the
 * same `result` (and digest) bit for bit; `perf` holds the wall-clock facts, which vary.
 */
import { readFileSync } from 'node:fs';
import { runScenario, type SimReport } from '../../sim/simulator.js';
import { SCENARIO_DEFAULTS, ScenarioError, describeLatency, parseLatency, resolveScenario, type Scenario } from '../../sim/scenario.js';
import { UsageError, parseFlags } from '../args.js';
import { ExitCode, printJson, printLine } from '../output.js';

/** Flag name for each scenario field (integers unless listed in DECIMAL). */
const FLAGS: Record<string, keyof Scenario> = {
  peers: 'peers',
  seed: 'seed',
  successors: 'successors',
  replicas: 'replicas',
  'stabilize-ms': 'stabilizeMs',
  'repair-ms': 'repairMs',
  'timeout-ms': 'requestTimeoutMs',
  keys: 'keys',
  'warmup-periods': 'warmupPeriods',
  'crash-fraction': 'crashFraction',
  'settle-periods': 'settlePeriods',
  'churn-rate': 'churnRate',
  'leave-rate': 'leaveRate',
  lookups: 'lookups',
  'lookup-rate': 'lookupRateHz',
  retries: 'retries',
};
const DECIMAL = new Set<keyof Scenario>(['crashFraction', 'churnRate', 'leaveRate', 'lookupRateHz']);

const SPEC = {
  ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
  'latency-ms': { type: 'string' as const },
  op: { type: 'string' as const },
  scenario: { type: 'string' as const },
  json: { type: 'boolean' as const },
  progress: { type: 'boolean' as const },
};

/** `chord sim [flags] [--scenario FILE] [--json]`. */
export async function simCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, SPEC, 'sim');
  takeNone(positionals);
  const partial: Partial<Scenario> = values.scenario !== undefined ? readScenarioFile(String(values.scenario)) : {};
  for (const [flag, field] of Object.entries(FLAGS)) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    const n = Number(text);
    const ok = text.trim() !== '' && Number.isFinite(n) && (DECIMAL.has(field) || /^\d+$/.test(text));
    if (!ok) throw new UsageError(`--${flag} ${JSON.stringify(text)} is not ${DECIMAL.has(field) ? 'a number' : 'a whole number'}: e.g. --${flag} ${String(SCENARIO_DEFAULTS[field])}`);
    (partial as Record<string, unknown>)[field] = n;
  }
  if (typeof values['latency-ms'] === 'string') partial.latency = asUsage(() => parseLatency(String(values['latency-ms'])), 'latency-ms');
  if (typeof values.op === 'string') partial.op = values.op as Scenario['op'];
  const scenario = asUsage(() => resolveScenario(partial), undefined);
  const progress = values.progress === true ? (phase: string, t: number) => process.stderr.write(`sim: ${phase} at ${t} ms simulated\n`) : undefined;
  const report = await runScenario(scenario, progress);
  if (values.json === true) printJson(report);
  else printSummary(report);
  return ExitCode.OK;
}

function takeNone(positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`sim: unexpected argument ${JSON.stringify(positionals[0])}: sim takes only flags, e.g. chord sim --peers 1024 --lookups 10000`);
  }
}

/** Runs `fn`, turning a scenario error into a usage error that names the flag to fix. */
function asUsage<T>(fn: () => T, flag: string | undefined): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    const name = flag ?? flagOf(err.field);
    throw new UsageError(`--${name}: ${err.message} (or fix "${err.field}" in the --scenario file)`);
  }
}

function flagOf(field: string): string {
  if (field === 'latency') return 'latency-ms';
  if (field === 'op') return 'op';
  return Object.entries(FLAGS).find(([, f]) => f === field)?.[0] ?? field;
}

/** A scenario file: a JSON object whose keys are Scenario fields; latency may be a string such as "5..50". */
function readScenarioFile(path: string): Partial<Scenario> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--scenario ${JSON.stringify(path)} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): give the path of a JSON file`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--scenario ${JSON.stringify(path)} is not valid JSON (${(err as Error).message}): write an object such as {"peers": 1024, "lookups": 10000}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`--scenario ${JSON.stringify(path)} must hold a JSON object such as {"peers": 1024, "lookups": 10000}`);
  }
  const known = new Set(Object.keys(SCENARIO_DEFAULTS));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (!known.has(k)) throw new UsageError(`--scenario ${JSON.stringify(path)}: unknown field ${JSON.stringify(k)}; known fields: ${[...known].join(', ')}`);
    out[k] = k === 'latency' && typeof v === 'string' ? asUsage(() => parseLatency(v), 'scenario (latency)') : v;
  }
  return out as Partial<Scenario>;
}

function printSummary(rep: SimReport): void {
  const { scenario: s, result: r, perf } = rep;
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  printLine(
    `scenario: ${s.peers} peers, seed ${s.seed}, successors ${s.successors}, replicas ${s.replicas}, stabilize ${s.stabilizeMs} ms, ` +
      `latency ${describeLatency(s.latency)} ms, keys ${s.keys}, crash ${s.crashFraction}, churn ${s.churnRate}/period, ${s.lookups} ${s.op}s` +
      (s.lookupRateHz > 0 ? ` at ${s.lookupRateHz}/s` : '') + `, retries ${s.retries}`,
  );
  printLine(`ring: ${r.peersEnd} live peers (crashed ${r.crashed}, joined ${r.joined}, left ${r.left}); consistent after warm-up: ${r.ringAfterWarmup.ok}, at end: ${r.ringAtEnd.ok}${r.ringAtEnd.ok ? '' : ` (${r.ringAtEnd.detail})`}`);
  printLine(`${s.op}s: ${r.requests.issued} issued, ${r.requests.failed} failed (${pct(r.requests.failedFraction)}: ${r.requests.wrong} wrong, ${r.requests.errors} errors)`);
  printLine(`hops: mean ${r.hops.mean}, p1 ${r.hops.p1}, p50 ${r.hops.p50}, p99 ${r.hops.p99}, max ${r.hops.max}`);
  if (s.keys > 0) {
    printLine(`keys: ${r.keys.lost} of ${r.keys.total} lost (${pct(r.keys.lostFraction)}); owned per peer mean ${r.keysPerPeer.mean}, p1 ${r.keysPerPeer.p1}, p99 ${r.keysPerPeer.p99}`);
  }
  printLine(`simulated ${(r.virtualMs / 1000).toFixed(1)} s, ${r.messages} messages, ${r.events} events; digest ${r.digest}`);
  printLine(`wall ${(perf.wallMs / 1000).toFixed(1)} s (build ${(perf.buildMs / 1000).toFixed(1)} s), ${perf.eventsPerSec} events/s, peak RSS ${perf.maxRssMiB} MiB`);
}
