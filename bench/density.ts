/**
 * Density benchmark: start a host cluster of N peers over W workers, time until the ring is
 * consistent, and measure process RSS per peer. One cluster per process run, so each measurement
 * starts from a fresh heap:
 *   node dist/bench/density.js --peers 1024 --workers 2
 * Prints one JSON object: {peers, workers, startMs, consistentMs, rssMiB, baselineRssMiB, rssPerPeerMiB, ...}.
 */
import { parseFlags } from './args.js';
import { ClusterHost } from '../src/host/cluster-host.js';

const { values } = parseFlags({
  peers: { type: 'string', default: '256' },
  workers: { type: 'string', default: '2' },
  'stabilize-ms': { type: 'string' }, // default: the host's own choice for this size
  settle: { type: 'string', default: '0' },
});
const peers = Number(values.peers);
const workers = Number(values.workers);
const stabilizeMs = values['stabilize-ms'] === undefined ? undefined : Number(values['stabilize-ms']);

const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
const baseline = process.memoryUsage().rss;
const t0 = performance.now();
const cluster = new ClusterHost({}, { peers, workers, basePort: 0, registryPort: 0, stabilizeMs });
try {
  await cluster.start();
  const started = performance.now();
  await cluster.waitConsistent(600_000);
  const consistent = performance.now();
  // Optionally let fingers converge too, then sample memory in steady state.
  const settleMs = Number(values.settle);
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  const health = await cluster.health(false);
  const rss = process.memoryUsage().rss;
  console.log(
    JSON.stringify({
      peers,
      workers,
      stabilizeMs: cluster.init.stabilizeMs,
      startMs: Math.round(started - t0),
      consistentMs: Math.round(consistent - t0),
      fingersConsistent: health.fullyConsistent,
      rssMiB: mib(rss),
      baselineRssMiB: mib(baseline),
      rssPerPeerMiB: Math.round(((rss - baseline) / peers / 2 ** 20) * 100) / 100,
    }),
  );
} finally {
  await cluster.shutdown();
}
