/**
 * Prometheus text from peer samples, per peer (`ringwire_peer_*`, labelled with the peer's id and
 * address) and aggregated over all peers given (`ringwire_*`, no peer label, request latency by
 * type). Sums the plain samples itself, builds prom-client metric objects from the sums and the
 * per-peer samples, and lets prom-client render the exposition format. The only module that imports
 * prom-client: the core (chord, store, wire) never sees it, and the hot path never touches it.
 *
 * prom-client's own aggregator (AggregatorRegistry.aggregate) hashes the labels of every value of
 * every peer; at 1,024 peers that took 0.7 s of the host's main thread for the sums alone and 1.5 s
 * with the per-peer series, every scrape. Summing the samples field by field first is linear in
 * plain numbers, and the per-peer series, whose labels differ by construction, need no merging.
 */
import promClient from 'prom-client';
import type { HistogramSample, PeerMetricsSample, PoolMetricsSample } from './peer-metrics.js';

/** The content type of the exposition (text format 0.0.4). */
export const METRICS_CONTENT_TYPE = promClient.Registry.PROMETHEUS_CONTENT_TYPE;

type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: Value[];
  aggregator: 'sum';
}

const CONNECTIONS_HELP = 'Open connections: in = accepted by the peer, out = outgoing (a peer sharing its worker\'s pool reports 0; see ringwire_worker_*).';
const RECONNECTS_HELP = 'Outgoing connections re-established to an address connected before.';

function family(name: string, type: Family['type'], help: string, values: Value[]): Family {
  return { name, help, type, values, aggregator: 'sum' };
}

function histogramValues(name: string, h: HistogramSample, labels: Labels): Value[] {
  const out: Value[] = [];
  let cumulative = 0;
  for (let i = 0; i <= h.bounds.length; i++) {
    cumulative += h.counts[i] ?? 0;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: i < h.bounds.length ? h.bounds[i]! : '+Inf' }, value: cumulative });
  }
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

/** Sums histograms over the same bounds (the per-peer latency is the sum over request types). */
function mergeHistograms(list: HistogramSample[], bounds: readonly number[]): HistogramSample {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let sum = 0;
  let count = 0;
  for (const h of list) {
    h.counts.forEach((c, i) => (counts[i]! += c));
    sum += h.sum;
    count += h.count;
  }
  return { bounds, counts, sum, count };
}

/** The families of one peer: with `labels` {peer, addr} under `prefix`, or none for the sums. */
function peerFamilies(s: PeerMetricsSample, prefix: string, labels: Labels, latencyByType: boolean): Family[] {
  const n = `ringwire_${prefix}`;
  const latency = Object.entries(s.latency);
  const latencyValues = latencyByType
    ? latency.flatMap(([type, h]) => histogramValues(`${n}request_duration_seconds`, h, { ...labels, type }))
    : latency.length > 0
      ? histogramValues(`${n}request_duration_seconds`, mergeHistograms(latency.map(([, h]) => h), latency[0]![1].bounds), labels)
      : [];
  const gauge = (name: string, help: string, value: number): Family => family(`${n}${name}`, 'gauge', help, [{ value, labels }]);
  const counter = (name: string, help: string, value: number): Family => family(`${n}${name}`, 'counter', help, [{ value, labels }]);
  return [
    family(`${n}requests_total`, 'counter', 'Requests handled, by type and result (ok or the error code answered).', s.requests.map(([type, result, value]) => ({ value, labels: { ...labels, type, result } }))),
    family(`${n}request_duration_seconds`, 'histogram', 'Time to handle a request, in seconds.', latencyValues),
    family(`${n}lookup_hops`, 'histogram', 'Hops of the client operations entered at the peer (lookup, get, put, delete).', histogramValues(`${n}lookup_hops`, s.hops, labels)),
    family(`${n}connections_open`, 'gauge', CONNECTIONS_HELP, [
      { value: s.connectionsIn, labels: { ...labels, direction: 'in' } },
      { value: s.connectionsOut, labels: { ...labels, direction: 'out' } },
    ]),
    counter('reconnects_total', RECONNECTS_HELP, s.reconnects),
    counter('stabilize_rounds_total', 'Stabilize rounds run.', s.stabilizeRounds),
    counter('ring_changes_total', 'Changes of the predecessor or the successor list.', s.ringChanges),
    gauge('keys', 'Live keys owned.', s.keys),
    gauge('records_stored', 'Live records held, owned and replicas.', s.records),
    gauge('bytes_stored', 'Bytes of keys and values held, tombstones included.', s.bytes),
    gauge('replicas_below_target', 'Owned keys whose successor list is too short to hold every replica.', s.replicasBelowTarget),
    family(`${n}frames_refused_total`, 'counter', 'Connections refused for breaking the protocol (oversized or malformed frames, bad hello, stalls), by reason.', Object.entries(s.framesRefused).map(([reason, value]) => ({ value, labels: { ...labels, reason } }))),
  ];
}

export interface RenderOptions {
  /** Per-peer series too (one set per peer); off, only the sums. @default true */
  perPeer?: boolean;
  /** Connection pools shared by a worker's peers: per worker, and added to the sums. */
  pools?: PoolMetricsSample[];
  /** Extra whole-cluster gauges, e.g. from the host's health check: name -> [help, value]. */
  extra?: Record<string, [string, number]>;
}

/** The sums over `samples` as one sample: counters and gauges added, histograms bucket by bucket. */
export function sumSamples(samples: readonly PeerMetricsSample[]): PeerMetricsSample {
  const requests = new Map<string, [string, string, number]>();
  const latency: Record<string, HistogramSample> = {};
  const framesRefused: Record<string, number> = {};
  const sum: PeerMetricsSample = {
    peer: '', addr: '', requests: [], latency, hops: mergeHistograms(samples.map((s) => s.hops), samples[0]?.hops.bounds ?? []), framesRefused,
    connectionsIn: 0, connectionsOut: 0, reconnects: 0, stabilizeRounds: 0, ringChanges: 0, keys: 0, records: 0, bytes: 0, replicasBelowTarget: 0,
  };
  for (const s of samples) {
    for (const [type, result, n] of s.requests) {
      const key = `${type} ${result}`;
      const r = requests.get(key);
      if (r) r[2] += n;
      else requests.set(key, [type, result, n]);
    }
    for (const [type, h] of Object.entries(s.latency)) latency[type] = mergeHistograms(latency[type] ? [latency[type]!, h] : [h], h.bounds);
    for (const [reason, n] of Object.entries(s.framesRefused)) framesRefused[reason] = (framesRefused[reason] ?? 0) + n;
    sum.connectionsIn += s.connectionsIn;
    sum.connectionsOut += s.connectionsOut;
    sum.reconnects += s.reconnects;
    sum.stabilizeRounds += s.stabilizeRounds;
    sum.ringChanges += s.ringChanges;
    sum.keys += s.keys;
    sum.records += s.records;
    sum.bytes += s.bytes;
    sum.replicasBelowTarget += s.replicasBelowTarget;
  }
  sum.requests = [...requests.values()];
  return sum;
}

/**
 * Families of the same name as one: values with the same series (name and labels) added, the
 * rest kept in order. `distinct` families carry labels no other family of their name has (the
 * per-peer series), so their values are appended without a key.
 */
function mergeFamilies(families: Iterable<{ family: Family; distinct: boolean }>): Family[] {
  const byName = new Map<string, { family: Family; index: Map<string, Value> }>();
  for (const { family: f, distinct } of families) {
    let m = byName.get(f.name);
    if (!m) byName.set(f.name, (m = { family: { ...f, values: [] }, index: new Map() }));
    for (const v of f.values) {
      if (distinct) {
        m.family.values.push(v);
        continue;
      }
      const key = `${v.metricName ?? ''} ${JSON.stringify(v.labels)}`;
      const seen = m.index.get(key);
      if (seen) seen.value += v.value;
      else {
        const copy = { ...v };
        m.index.set(key, copy);
        m.family.values.push(copy);
      }
    }
  }
  return [...byName.values()].map((m) => m.family);
}

/** The Prometheus text for `samples`: per peer and summed over them. */
export async function renderMetrics(samples: PeerMetricsSample[], opts: RenderOptions = {}): Promise<string> {
  const parts: Array<{ family: Family; distinct: boolean }> = [];
  const add = (families: Family[], distinct = false): void => {
    for (const family of families) parts.push({ family, distinct });
  };
  add([family('ringwire_peers', 'gauge', 'Peers reporting metrics.', [{ value: samples.length, labels: {} }])]);
  for (const [name, [help, value]] of Object.entries(opts.extra ?? {})) add([family(name, 'gauge', help, [{ value, labels: {} }])]);
  for (const p of opts.pools ?? []) {
    const labels = { worker: p.worker };
    add([
      family('ringwire_worker_connections_open', 'gauge', 'Outgoing connections of the pool a host worker\'s peers share.', [{ value: p.connectionsOut, labels }]),
      family('ringwire_worker_reconnects_total', 'counter', 'Reconnects of the pool a host worker\'s peers share.', [{ value: p.reconnects, labels }]),
      // Into the sums, where outgoing connections count whichever pool holds them.
      family('ringwire_connections_open', 'gauge', CONNECTIONS_HELP, [{ value: p.connectionsOut, labels: { direction: 'out' } }]),
      family('ringwire_reconnects_total', 'counter', RECONNECTS_HELP, [{ value: p.reconnects, labels: {} }]),
    ]);
  }
  if (samples.length > 0) add(peerFamilies(sumSamples(samples), '', {}, true));
  if (opts.perPeer !== false) for (const s of samples) add(peerFamilies(s, 'peer_', { peer: s.peer, addr: s.addr }, false), true);
  // Families with no values still print HELP/TYPE: Prometheus accepts that, and it documents them.
  const registry = new promClient.Registry();
  for (const f of mergeFamilies(parts)) registry.registerMetric({ ...f, get: () => f } as unknown as Parameters<typeof registry.registerMetric>[0]);
  return registry.metrics();
}
