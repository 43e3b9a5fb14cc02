/**
 * The wire baseline on its own:
 *   node dist/bench/wire/main.js --listeners 256 --workers 2 --forwards 3 --concurrency 64 --duration 5
 * Prints one JSON object shaped like `chord bench --json` (hops = forwards).
 */
import { parseFlags } from '../args.js';
import { runBaseline, startBaseline } from './baseline.js';

const { values } = parseFlags({
  listeners: { type: 'string', default: '256' },
  workers: { type: 'string', default: '2' },
  forwards: { type: 'string', default: '3' },
  concurrency: { type: 'string', default: '64' },
  duration: { type: 'string', default: '5' },
  warmup: { type: 'string', default: '1' },
});
const cluster = await startBaseline(Number(values.listeners), Number(values.workers));
try {
  const r = await runBaseline(cluster, {
    forwards: Number(values.forwards),
    concurrency: Number(values.concurrency),
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
  });
  console.log(JSON.stringify(r));
} finally {
  await cluster.close();
}
