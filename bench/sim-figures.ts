/**
 * Reproduces the simulation figures of the Chord paper (Stoica et al., SIGCOMM 2001, section 6)
 * with the deterministic simulator: path length vs ring size, simultaneous failures, lookups under
 * churn, load balance. Each figure's runs are saved as JSON under docs/sim/, then every saved
 * figure is rendered into docs/EVALUATION.md (tables, the paper's numbers, the commands) and one
 * SVG plot per figure under docs/sim/.
 *
 *   node dist/bench/sim-figures.js [--only path,failure,churn,load] [--quick] [--render-only]
 *
 * --quick runs every figure at small sizes (a smoke run, seconds); it writes to docs/sim/quick/
 * so it never overwrites the real figures. Results are deterministic (fixed seeds); wall times
 * and events/s vary with the machine.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags } from './args.js';
import { runScenario, type SimReport } from '../src/sim/simulator.js';
import { describeLatency, type Scenario } from '../src/sim/scenario.js';
import { renderChart } from './svg-plot.js';

type FigureName = 'path' | 'failure' | 'churn' | 'load';
const FIGURES: FigureName[] = ['path', 'failure', 'churn', 'load'];

interface Row {
  label: string;
  scenario: Scenario;
  result: SimReport['result'];
  perf: SimReport['perf'];
}
interface FigureData {
  figure: FigureName;
  command: string;
  note: string;
  rows: Row[];
}

const { values } = parseFlags({
  only: { type: 'string' },
  quick: { type: 'boolean' },
  'render-only': { type: 'boolean' },
  out: { type: 'string' },
});
const quick = values.quick === true;
const outDir = values.out ?? (quick ? 'docs/sim/quick' : 'docs/sim');
const only = (values.only ?? FIGURES.join(',')).split(',').map((s) => s.trim()) as FigureName[];
for (const f of only) if (!FIGURES.includes(f)) throw new Error(`--only ${f}: use a comma-separated subset of ${FIGURES.join(', ')}`);
mkdirSync(outDir, { recursive: true });

const log = (msg: string): void => {
  process.stderr.write(`[sim-figures ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

async function run(label: string, scenario: Partial<Scenario>): Promise<Row> {
  log(`${label}: start`);
  const rep = await runScenario(scenario);
  log(`${label}: ${rep.perf.wallMs} ms wall, ${rep.perf.eventsPerSec} events/s, failed ${rep.result.requests.failedFraction}, hops ${rep.result.hops.mean}`);
  return { label, scenario: rep.scenario, result: rep.result, perf: rep.perf };
}

const commandFor = (f: FigureName): string => `make sim-figures FIGURES=${f}${quick ? ' QUICK=1' : ''}   # node dist/bench/sim-figures.js --only ${f}${quick ? ' --quick' : ''}`;

// --- the experiments ---

async function pathFigure(): Promise<FigureData> {
  const maxLog = quick ? 8 : 14;
  const lookups = quick ? 2000 : 100_000;
  const rows: Row[] = [];
  for (let b = 3; b <= maxLog; b++) {
    rows.push(await run(`N=2^${b}`, { peers: 2 ** b, seed: b, lookups, warmupPeriods: 2, keys: 0, op: 'lookup' }));
  }
  return { figure: 'path', command: commandFor('path'), note: `${lookups} lookups of random ids per point, from random peers, after 2 stabilization periods`, rows };
}

async function failureFigure(): Promise<FigureData> {
  const peers = quick ? 500 : 10_000;
  const keys = quick ? 5000 : 100_000;
  const gets = quick ? 2000 : 10_000;
  const rows: Row[] = [];
  for (const replicas of [1, 3]) {
    for (const p of [0.1, 0.2, 0.3, 0.4, 0.5]) {
      rows.push(
        await run(`replicas ${replicas}, p=${p}`, {
          peers, seed: 7, keys, replicas, successors: 8, crashFraction: p, warmupPeriods: 1, settlePeriods: 5, op: 'get', lookups: gets, retries: 0,
        }),
      );
    }
  }
  return {
    figure: 'failure',
    command: commandFor('failure'),
    note: `${peers} peers, ${keys} keys, a fraction p crashed at once, 5 stabilization periods, then ${gets} gets of random preloaded keys (no retries)`,
    rows,
  };
}

async function churnFigure(): Promise<FigureData> {
  const lookups = quick ? 300 : 1200;
  const rows: Row[] = [];
  for (const retries of [0, 2]) {
    // 1/3..3 per period is the range asked for; 6 and 12 per period (0.2 and 0.4 per second at a
    // 30 s period) reach the paper's high end
    for (const rate of quick ? [1 / 3, 1, 3] : [1 / 3, 0.5, 1, 2, 3, 6, 12]) {
      rows.push(
        await run(`retries ${retries}, rate ${rate.toFixed(2)}/period`, {
          peers: quick ? 200 : 500, seed: 11, stabilizeMs: 30_000, churnRate: rate, lookups, lookupRateHz: 1, op: 'lookup', retries, warmupPeriods: 1, latency: { kind: 'uniform', minMs: 10, maxMs: 100 },
        }),
      );
    }
  }
  return {
    figure: 'churn',
    command: commandFor('churn'),
    note: `joins and crashes each a Poisson process at the given rate per 30 s stabilization period; ${lookups} lookups at 1/s (${lookups / 60} simulated minutes); a lookup fails when it errors or names a peer that is not the key's true live owner when it completes`,
    rows,
  };
}

async function loadFigure(): Promise<FigureData> {
  const peers = quick ? 1000 : 10_000;
  const rows: Row[] = [];
  for (const keys of quick ? [10_000, 50_000] : [100_000, 250_000, 500_000, 1_000_000]) {
    rows.push(await run(`${keys} keys`, { peers, seed: 5, keys, replicas: 1, warmupPeriods: 0, lookups: 0 }));
  }
  return { figure: 'load', command: commandFor('load'), note: `${peers} peers, keys placed at their owner (replicas 1), owned keys counted per peer by the store`, rows };
}

// --- rendering ---

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function perfCols(r: Row): string {
  return `${sec(r.perf.wallMs)} | ${r.perf.eventsPerSec.toLocaleString('en-US')} | ${r.perf.maxRssMiB}`;
}

function renderPath(d: FigureData): string {
  const lines = [
    '| N | lookups | mean hops | p1 | p99 | paper: ½·log2 N | wall | events/s | peak RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of d.rows) {
    const n = r.scenario.peers;
    lines.push(`| ${n} | ${r.result.requests.issued} | ${r.result.hops.mean.toFixed(2)} | ${r.result.hops.p1} | ${r.result.hops.p99} | ${(0.5 * Math.log2(n)).toFixed(2)} | ${perfCols(r)} |`);
  }
  const svg = renderChart({
    title: 'Path length vs ring size',
    xLabel: 'log2 N',
    yLabel: 'hops',
    series: [
      { name: 'mean (p1..p99)', points: d.rows.map((r) => ({ x: Math.log2(r.scenario.peers), y: r.result.hops.mean, lo: r.result.hops.p1, hi: r.result.hops.p99 })) },
      { name: '½·log2 N (paper)', dashed: true, points: d.rows.map((r) => ({ x: Math.log2(r.scenario.peers), y: 0.5 * Math.log2(r.scenario.peers) })) },
    ],
  });
  writeFileSync(join(outDir, 'path-length.svg'), svg);
  return lines.join('\n');
}

function renderFailure(d: FigureData): string {
  const lines = [
    '| replicas | successors | p crashed | gets failed | keys lost | paper (replicas 1): failed ≈ p | ring ok after settle | wall | events/s | peak RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|',
  ];
  for (const r of d.rows) {
    const s = r.scenario;
    lines.push(`| ${s.replicas} | ${s.successors} | ${s.crashFraction} | ${pct(r.result.requests.failedFraction)} | ${pct(r.result.keys.lostFraction)} | ${s.replicas === 1 ? pct(s.crashFraction) : '—'} | ${r.result.ringAtEnd.ok ? 'yes' : 'no'} | ${perfCols(r)} |`);
  }
  const series = [1, 3].map((rep) => ({
    name: `failed gets, replicas ${rep}`,
    points: d.rows.filter((r) => r.scenario.replicas === rep).map((r) => ({ x: r.scenario.crashFraction, y: r.result.requests.failedFraction })),
  }));
  series.push({ name: 'p (paper, replicas 1)', points: series[0]!.points.map((p) => ({ x: p.x, y: p.x })) });
  writeFileSync(
    join(outDir, 'failure.svg'),
    renderChart({ title: 'Lookups failing after simultaneous failures', xLabel: 'fraction of peers crashed (p)', yLabel: 'fraction of gets failed', series: series.map((s, i) => (i === 2 ? { ...s, dashed: true } : s)) }),
  );
  return lines.join('\n');
}

function renderChurn(d: FigureData): string {
  const lines = [
    '| retries | joins = crashes per period | per second | lookups | failed | wrong owner | errors | joined | crashed | mean hops | wall | events/s | peak RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of d.rows) {
    const s = r.scenario;
    const q = r.result.requests;
    lines.push(`| ${s.retries} | ${s.churnRate.toFixed(2)} | ${(s.churnRate / (s.stabilizeMs / 1000)).toFixed(3)} | ${q.issued} | ${pct(q.failedFraction)} | ${q.wrong} | ${q.errors} | ${r.result.joined} | ${r.result.crashed} | ${r.result.hops.mean.toFixed(2)} | ${perfCols(r)} |`);
  }
  const series = [0, 2].map((rt) => ({
    name: rt === 0 ? 'no retries' : `${rt} retries`,
    points: d.rows.filter((r) => r.scenario.retries === rt).map((r) => ({ x: r.scenario.churnRate, y: r.result.requests.failedFraction })),
  }));
  writeFileSync(join(outDir, 'churn.svg'), renderChart({ title: 'Failed lookups under churn (500 peers)', xLabel: 'joins (= crashes) per stabilization period', yLabel: 'fraction of lookups failed', series, xTicks: [1, 2, 3, 6, 12].map((x) => ({ x, label: String(x) })) }));
  return lines.join('\n');
}

function renderLoad(d: FigureData): string {
  const lines = ['| peers | keys | mean keys/peer | p1 | p99 | max | p99 / mean | wall | events/s | peak RSS MiB |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of d.rows) {
    const k = r.result.keysPerPeer;
    lines.push(`| ${r.scenario.peers} | ${r.scenario.keys} | ${k.mean.toFixed(1)} | ${k.p1} | ${k.p99} | ${k.max} | ${(k.p99 / k.mean).toFixed(2)} | ${perfCols(r)} |`);
  }
  writeFileSync(
    join(outDir, 'load.svg'),
    renderChart({
      title: 'Keys per peer (10^4 peers)',
      xLabel: 'keys (thousands)',
      yLabel: 'keys per peer',
      series: [{ name: 'mean (p1..p99)', points: d.rows.map((r) => ({ x: r.scenario.keys / 1000, y: r.result.keysPerPeer.mean, lo: r.result.keysPerPeer.p1, hi: r.result.keysPerPeer.p99 })) }],
    }),
  );
  return lines.join('\n');
}

function scenarioLine(r: Row): string {
  const s = r.scenario;
  return `successors ${s.successors}, stabilize ${s.stabilizeMs} ms, latency ${describeLatency(s.latency)} ms (uniform, one way), request timeout ${s.requestTimeoutMs} ms`;
}

const PAPER: Record<FigureName, string> = {
  path: 'Paper (Fig. 10a, 2^k nodes, 100·2^k keys): mean path length ½·log2 N, with the 1st..99th percentile spread growing with N.',
  failure: 'Paper (Fig. 11, 10^4 nodes, 10^6 keys): the fraction of failed lookups is almost exactly p, i.e. only the keys whose node failed; no routing failures after stabilization.',
  churn: 'Paper (Fig. 12 / §6.5, 500 nodes, stabilization every 30 s on average, lookups 1/s, join and fail rates up to 0.4 per second): failed lookups grow with the rate, about 3% at the high end (0.4/s = 12 per period), without retries.',
  load: 'Paper (Fig. 8a, 10^4 nodes, 10^5..10^6 keys): keys per node vary widely and the spread grows linearly with the number of keys; some nodes hold no keys (1st percentile 0) and the 99th percentile is several times the mean — the motivation for virtual nodes.',
};

const TITLES: Record<FigureName, string> = {
  path: '1. Path length',
  failure: '2. Simultaneous failures',
  churn: '3. Lookups under churn',
  load: '4. Load balance',
};

const SVG: Record<FigureName, string> = { path: 'path-length.svg', failure: 'failure.svg', churn: 'churn.svg', load: 'load.svg' };

function renderAll(): void {
  const parts: string[] = [];
  for (const f of FIGURES) {
    const file = join(outDir, `${f}.json`);
    if (!existsSync(file)) {
      parts.push(`## ${TITLES[f]}\n\nNot run yet: \`${commandFor(f)}\`.\n`);
      continue;
    }
    const d = JSON.parse(readFileSync(file, 'utf8')) as FigureData;
    const table = f === 'path' ? renderPath(d) : f === 'failure' ? renderFailure(d) : f === 'churn' ? renderChurn(d) : renderLoad(d);
    const rel = quick ? SVG[f] : `sim/${SVG[f]}`;
    parts.push(
      `## ${TITLES[f]}\n\n${PAPER[f]}\n\nOurs: ${d.note}; ${d.rows[0] ? scenarioLine(d.rows[0]) : ''}.\n\n` +
        `Command: \`${d.command}\`\n\n${table}\n\n![${TITLES[f]}](${rel})\n`,
    );
  }
  const generated = `<!-- figures:begin (generated by bench/sim-figures.ts: edit the script, not this section) -->\n\n${parts.join('\n')}\n<!-- figures:end -->`;
  // The real figures go into docs/EVALUATION.md between the markers (the prose around them is
  // hand-written); a quick run gets a file of its own.
  const target = quick ? join(outDir, 'EVALUATION.md') : 'docs/EVALUATION.md';
  const before = existsSync(target) ? readFileSync(target, 'utf8') : '# Evaluation\n\n<!-- figures:begin -->\n<!-- figures:end -->\n';
  const begin = before.indexOf('<!-- figures:begin');
  const end = before.indexOf('<!-- figures:end -->');
  const text = begin >= 0 && end > begin ? before.slice(0, begin) + generated + before.slice(end + '<!-- figures:end -->'.length) : `${before}\n${generated}\n`;
  writeFileSync(target, text);
  log(`wrote ${target}`);
}

const runners: Record<FigureName, () => Promise<FigureData>> = { path: pathFigure, failure: failureFigure, churn: churnFigure, load: loadFigure };
if (values['render-only'] !== true) {
  for (const f of only) {
    const data = await runners[f]();
    writeFileSync(join(outDir, `${f}.json`), JSON.stringify(data, null, 1) + '\n');
  }
}
renderAll();
