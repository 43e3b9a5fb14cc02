/**
 * Messages per operation, by type: what routing costs on the wire, counted by the peers themselves.
 *   node dist/bench/messages.js --peers 256 --op get --concurrency 64 --duration 10 [--no-route-cache] [--iterative] [--stabilize-ms MS]
 * (or `make bench-messages MESSAGES_ARGS=...`). Starts a `chord cluster` child, reads the summed
 * `ringwire_requests_total` from its /metrics before and after an idle window (maintenance only)
 * and around a `chord bench` run, and prints one JSON object: the bench report, requests per
 * second by type on the idle ring, requests per operation by type under load, and the host's CPU
 * time and socket read and write system calls per operation. One-way types
 * (routeLookup, routeDone) are one message each; every other request is two (it is answered).
 */
import { parseFlags } from './args.js';
import type { BenchReport } from '../src/loadgen/stats.js';
import { chordBench, processCpuMs as cpuMs, processSyscalls, startClusterChild } from './cluster-child.js';

const ONE_WAY = new Set(['routeLookup', 'routeDone']);

/** Requests handled so far by type, summed over every peer. */
async function requestsByType(admin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${admin}/metrics?per_peer=false`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^ringwire_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const type = /type="([^"]*)"/.exec(m[1]!)?.[1];
    if (type !== undefined) out.set(type, (out.get(type) ?? 0) + Number(m[2]));
  }
  return out;
}

function delta(after: Map<string, number>, before: Map<string, number>, per: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, n] of after) {
    const d = n - (before.get(type) ?? 0);
    if (d > 0) out[type] = round2(d / per);
  }
  return out;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function messages(perType: Record<string, number>): number {
  let total = 0;
  for (const [type, n] of Object.entries(perType)) total += ONE_WAY.has(type) ? n : 2 * n;
  return round2(total);
}

const { values } = parseFlags({
  peers: { type: 'string', default: '256' },
  workers: { type: 'string', default: '2' },
  op: { type: 'string', default: 'get' },
  concurrency: { type: 'string', default: '64' },
  duration: { type: 'string', default: '10' },
  idle: { type: 'string', default: '10' },
  'stabilize-ms': { type: 'string' },
  'no-route-cache': { type: 'boolean', default: false },
  iterative: { type: 'boolean', default: false },
});
const clusterArgs = [...(values['stabilize-ms'] ? ['--stabilize-ms', values['stabilize-ms']] : []), ...(values.iterative ? ['--iterative'] : [])];
const cluster = await startClusterChild(Number(values.peers), Number(values.workers), [], clusterArgs);
try {
  const idleS = Number(values.idle);
  const m0 = await requestsByType(cluster.admin);
  await new Promise((r) => setTimeout(r, idleS * 1000));
  const m1 = await requestsByType(cluster.admin);
  const cpu0 = cpuMs(cluster.proc.pid);
  const io0 = processSyscalls(cluster.proc.pid);
  const report = await chordBench<BenchReport>([
    '--via', cluster.addrs.slice(0, 3).join(','), '--op', values.op, '--concurrency', values.concurrency, '--duration', values.duration,
    ...(values['no-route-cache'] ? ['--no-route-cache'] : []),
  ]);
  const m2 = await requestsByType(cluster.admin);
  const hostCpuMs = cpuMs(cluster.proc.pid) - cpu0;
  const io1 = processSyscalls(cluster.proc.pid);
  // The load window also holds the bench's ring walk, preload and warm-up: per operation counted.
  const idlePerS = delta(m1, m0, idleS);
  const perOp = delta(m2, m1, report.ops);
  console.log(JSON.stringify({
    routing: values.iterative ? 'iterative' : 'recursive',
    routeCache: !values['no-route-cache'],
    report,
    idleRequestsPerS: idlePerS,
    idleMessagesPerS: messages(idlePerS),
    requestsPerOp: perOp,
    messagesPerOp: messages(perOp),
    // The host's CPU over the bench (ring walk, preload and warm-up included) per measured operation:
    // steadier than ops/s on a shared machine, since it does not depend on getting the cores.
    hostCpuUsPerOp: Math.round((hostCpuMs * 1000) / report.ops),
    // Socket reads and writes of the host (/proc/PID/io) per operation, same window: how many
    // messages share a system call (the kernel's loopback path is a fifth of the host's time).
    hostReadCallsPerOp: round2((io1.reads - io0.reads) / report.ops),
    hostWriteCallsPerOp: round2((io1.writes - io0.writes) / report.ops),
  }));
} finally {
  await cluster.stop();
}
