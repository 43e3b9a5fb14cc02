/**
 * Churn benchmark: a host cluster under continuous membership churn (crash, leave and join mixed)
 * while clients look keys up, read keys written beforehand and write new ones. One run per process:
 *   node dist/bench/churn.js --peers 64 --rate 1 --duration 60
 * Prints one JSON report (see ChurnReport in src/host/churn.ts) and writes it to
 * bench/results/churn-latest.json. Exit code 1 when a target is missed (>= 99.9% of lookups and
 * gets succeed, no acknowledged write lost), 2 for a bad flag.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseFlags } from './args.js';
import { ClusterHost } from '../src/host/cluster-host.js';
import { runChurn } from '../src/host/churn.js';
import { jsonLogger } from '../src/log/logger.js';
import { seededRandom } from '../src/sim/random.js';

const FLAGS = {
  peers: { type: 'string', default: '64' },
  workers: { type: 'string', default: '2' },
  rate: { type: 'string', default: '1' }, // membership events per second
  duration: { type: 'string', default: '60' }, // seconds of churn
  'stabilize-ms': { type: 'string', default: '250' },
  keys: { type: 'string', default: '1000' }, // preloaded keys
  ops: { type: 'string', default: '100' }, // client operations per second
  clients: { type: 'string', default: '4' },
  seed: { type: 'string', default: '1' },
  out: { type: 'string', default: 'bench/results/churn-latest.json' },
} as const;

function fail(message: string): never {
  process.stderr.write(`churn bench: ${message}\n`);
  process.exit(2);
}

const values = parseFlags(FLAGS).values as Record<string, string | undefined>;

/** A number flag within [min, max], or exit 2 naming the flag. */
function num(flag: keyof typeof FLAGS, min: number, max: number): number {
  const raw = values[flag]!;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${flag} ${JSON.stringify(raw)} must be a number from ${min} to ${max}`);
  return n;
}

const peers = num('peers', 10, 4096);
const workers = num('workers', 1, 64);
const rate = num('rate', 0.01, 100);
const durationS = num('duration', 1, 86_400);
const stabilizeMs = num('stabilize-ms', 10, 60_000);
const keys = num('keys', 1, 1_000_000);
const ops = num('ops', 1, 100_000);
const clients = num('clients', 1, 1000);
const seed = num('seed', 0, 2 ** 32 - 1);

const log = jsonLogger((line) => process.stderr.write(line), 'info', { component: 'bench-churn' });
const host = new ClusterHost({}, { peers, workers, basePort: 0, registryPort: 0, stabilizeMs, successors: 8, replicas: 3 });
let exitCode = 0;
try {
  const t0 = performance.now();
  await host.start();
  await host.waitConsistent(600_000);
  log.info('cluster ready', { peers, ms: Math.round(performance.now() - t0) });
  const report = await runChurn(
    { host, random: seededRandom(seed), log },
    { eventsPerSec: rate, durationMs: durationS * 1000, preloadKeys: keys, opsPerSec: ops, clients },
  );
  const result = {
    when: new Date().toISOString(),
    config: { peers, workers, rate, durationS, stabilizeMs, keys, ops, clients, seed, successors: 8, replicas: 3 },
    ...report,
  };
  const json = JSON.stringify(result, null, 2);
  console.log(json);
  const out = values.out!;
  mkdirSync(new URL('.', `file://${process.cwd()}/${out}`), { recursive: true });
  writeFileSync(out, json + '\n');
  const met = report.lookups.successRate >= 0.999 && report.gets.successRate >= 0.999 && report.lost === 0;
  if (!met) {
    process.stderr.write('churn bench: target missed (>= 99.9% of lookups and gets, no acknowledged write lost)\n');
    exitCode = 1;
  }
} finally {
  await host.shutdown();
}
process.exitCode = exitCode;
