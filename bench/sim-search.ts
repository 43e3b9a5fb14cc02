/**
 * The randomized correctness search from the command line (`make sim-search SEEDS=… FROM=…`):
 * runs seeds [FROM, FROM+SEEDS), prints each failing schedule's seed and shrunk trace, and a
 * summary line; exits 1 when any schedule failed.
 */
import { parseFlags } from './args.js';
import { search } from '../src/sim/search.js';

const { values } = parseFlags({ seeds: { type: 'string' }, from: { type: 'string' } });
const count = Number(values.seeds ?? 2000);
const from = Number(values.from ?? 1);
if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(from) || from < 0) {
  process.stderr.write('sim-search: --seeds must be a positive integer and --from a non-negative integer\n');
  process.exit(2);
}
const t0 = performance.now();
const rep = await search(from, count, (f) => {
  process.stdout.write(`FAILED schedule (replay: make sim-search FROM=${f.schedule.seed} SEEDS=1)\n${f.trace}\n\n`);
});
const s = ((performance.now() - t0) / 1000).toFixed(1);
process.stdout.write(
  `sim-search: seeds ${from}..${from + count - 1}: ${rep.failures.length} failing, ${rep.checks} invariant checks ` +
    `(${rep.skipped} skipped while the failure assumption was broken or had broken after a failure), ${rep.acked} acknowledged writes checked ` +
    `(${rep.excusedKeys} excused: their last copy crashed), ${rep.excusedRuns} runs excused (assumption broken after a failure), ${s} s\n`,
);
process.exitCode = rep.failures.length > 0 ? 1 : 0;
