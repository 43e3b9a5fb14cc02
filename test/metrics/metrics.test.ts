// GET /metrics as Prometheus scrapes it: from a cluster's admin server (peers in worker threads)
// and from `chord node --metrics-port`; the text must parse and the counters must move with traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AdminServer } from '../../src/host/admin-server.js';
import { ClusterHost } from '../../src/host/cluster-host.js';
import { PeerCounters, PlainHistogram, type PeerGauges } from '../../src/metrics/peer-metrics.js';
import { renderMetrics } from '../../src/metrics/prometheus.js';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { RingClient } from '../../src/net/client.js';
import { parseExposition } from '../helpers/prom-text.js';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));

async function scrape(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

test('a plain histogram counts each value in the first bucket whose bound is >= the value', () => {
  const h = new PlainHistogram([1, 2, 5]);
  for (const v of [0, 1, 1.5, 2, 3, 9]) h.observe(v);
  assert.deepEqual(h.sample(), { bounds: [1, 2, 5], counts: [2, 2, 1, 1], sum: 16.5, count: 6 });
});

test('a peer counts each settled request by type and result, and the hops of client operations', () => {
  const c = new PeerCounters();
  const get = { type: 'get', key: new Uint8Array([1]) } as const;
  c.settled(get, { type: 'getReply', found: true, value: new Uint8Array([2]), version: 1, hops: 3 }, undefined, 0.0002);
  c.settled(get, undefined, new RingwireError(ErrorCode.NOT_OWNER, 'not ours'), 0.0001);
  c.settled(get, undefined, new Error('a bug'), 0.0001);
  c.settled({ type: 'ping' }, { type: 'pong' }, undefined, 0.00005);
  const s = c.sample({} as PeerGauges);
  assert.deepEqual(new Set(s.requests.map((r) => r.join(' '))), new Set(['get ok 1', 'get NOT_OWNER 1', 'get INTERNAL 1', 'ping ok 1']));
  assert.equal(s.latency['get']!.count, 3, 'every outcome is timed');
  assert.deepEqual([s.hops.count, s.hops.sum], [1, 3], 'hops of the answered get only');
});

test('the summed series are the sums of the peers\' series, and the pools add into them', async () => {
  const types = ['get', 'routeLookup', 'getState'];
  const samples = Array.from({ length: 5 }, (_, p) => {
    const c = new PeerCounters();
    // Peer p handles p + 1 requests of each type it sees; every third of them fails with NOT_OWNER.
    for (const [k, type] of types.entries()) {
      if ((p + k) % 4 === 3) continue; // some peers never see some types
      for (let i = 0; i <= p; i++) {
        if (i % 3 === 2) c.request(type, 'NOT_OWNER', 0.0003 * i);
        else if (type === 'get') c.settled({ type: 'get', key: new Uint8Array([i]) }, { type: 'getReply', found: false, value: new Uint8Array(0), version: 0, hops: i % 4 }, undefined, 0.0002 * i);
        else c.request(type, 'ok', 0.002 * i);
      }
    }
    if (p % 2 === 1) c.frameRefused('FRAME_TOO_LARGE');
    c.ringChanges = p;
    const gauges: PeerGauges = { peer: String(p).padStart(40, '0'), addr: `127.0.0.1:${7000 + p}`, connectionsIn: p, connectionsOut: 1, reconnects: p % 2, stabilizeRounds: 10 * p, keys: p, records: 2 * p, bytes: 100 * p, replicasBelowTarget: p % 2 };
    return c.sample(gauges);
  });
  const pools = [{ worker: 0, connectionsOut: 7, reconnects: 1 }, { worker: 1, connectionsOut: 3, reconnects: 2 }];
  const all = parseExposition(await renderMetrics(samples, { pools }));
  const sumsOnly = parseExposition(await renderMetrics(samples, { pools, perPeer: false }));
  assert.equal(all.sum('ringwire_peers'), 5);
  for (const type of types) {
    for (const result of ['ok', 'NOT_OWNER']) {
      const expected = samples.reduce((n, s) => n + (s.requests.find(([t, r]) => t === type && r === result)?.[2] ?? 0), 0);
      assert.ok(expected > 0, `the fixture has ${type} ${result}`);
      assert.equal(all.sum('ringwire_requests_total', { type, result }), expected, `${type} ${result}`);
      assert.equal(all.sum('ringwire_peer_requests_total', { type, result }), expected);
      assert.equal(sumsOnly.sum('ringwire_requests_total', { type, result }), expected);
    }
    const timed = samples.reduce((n, s) => n + (s.latency[type]?.count ?? 0), 0);
    assert.equal(all.sum('ringwire_request_duration_seconds_count', { type }), timed);
    assert.equal(all.sum('ringwire_request_duration_seconds_bucket', { type, le: '+Inf' }), timed);
  }
  assert.equal(all.sum('ringwire_request_duration_seconds_count'), all.sum('ringwire_peer_request_duration_seconds_count'));
  assert.equal(all.sum('ringwire_request_duration_seconds_bucket', { le: '0.001' }), all.sum('ringwire_peer_request_duration_seconds_bucket', { le: '0.001' }));
  assert.equal(all.sum('ringwire_lookup_hops_count'), all.sum('ringwire_peer_lookup_hops_count'));
  assert.equal(all.sum('ringwire_lookup_hops_bucket', { le: '1' }), all.sum('ringwire_peer_lookup_hops_bucket', { le: '1' }));
  assert.equal(all.sum('ringwire_frames_refused_total', { reason: 'FRAME_TOO_LARGE' }), 2);
  for (const [name, field] of [['keys', 'keys'], ['records_stored', 'records'], ['bytes_stored', 'bytes'], ['stabilize_rounds_total', 'stabilizeRounds'], ['ring_changes_total', 'ringChanges'], ['replicas_below_target', 'replicasBelowTarget']] as const) {
    const expected = samples.reduce((n, s) => n + s[field], 0);
    assert.equal(all.sum(`ringwire_${name}`), expected, name);
    assert.equal(sumsOnly.sum(`ringwire_${name}`), expected, name);
  }
  assert.equal(all.sum('ringwire_connections_open', { direction: 'in' }), 0 + 1 + 2 + 3 + 4);
  assert.equal(all.sum('ringwire_connections_open', { direction: 'out' }), 5 + 7 + 3, 'each peer\'s own pool and the shared pools, in one series');
  assert.equal(all.samples.filter((s) => s.name === 'ringwire_connections_open' && s.labels.direction === 'out').length, 1);
  assert.equal(all.sum('ringwire_reconnects_total'), 2 + 1 + 2);
  assert.equal(sumsOnly.samples.filter((s) => s.name.startsWith('ringwire_peer_')).length, 0);
});

test('cluster /metrics parses as Prometheus text; request, hop and key counters move with traffic', async (t) => {
  const cluster = new ClusterHost({}, { peers: 8, workers: 2, basePort: 0, registryPort: 0, stabilizeMs: 200 });
  const admin = new AdminServer({ host: cluster });
  const client = new RingClient();
  t.after(async () => {
    await client.close();
    await admin.close();
    await cluster.shutdown();
  });
  const url = `http://127.0.0.1:${await admin.listen('127.0.0.1', 0)}/metrics`;
  await cluster.start();
  await cluster.waitConsistent(60_000);

  const before = await scrape(url);
  assert.equal(before.sum('ringwire_peers'), 8);
  for (const f of ['ringwire_requests_total', 'ringwire_peer_requests_total', 'ringwire_lookup_hops', 'ringwire_request_duration_seconds', 'ringwire_peer_connections_open', 'ringwire_reconnects_total', 'ringwire_stabilize_rounds_total', 'ringwire_ring_changes_total', 'ringwire_keys', 'ringwire_bytes_stored', 'ringwire_replicas_below_target', 'ringwire_frames_refused_total', 'ringwire_cluster_keys_below_replica_target']) {
    assert.ok(before.types.has(f), `family ${f} is exposed`);
  }
  assert.equal(new Set(before.samples.filter((s) => s.name === 'ringwire_peer_keys').map((s) => s.labels.peer)).size, 8, 'one series per peer');
  assert.ok(before.sum('ringwire_stabilize_rounds_total') > 0, 'stabilize rounds counted');
  assert.ok(before.sum('ringwire_connections_open', { direction: 'out' }) > 0, 'peers hold connections to each other');
  assert.equal(new Set(before.samples.filter((s) => s.name === 'ringwire_worker_connections_open').map((s) => s.labels.worker)).size, 2, 'one shared pool per worker');

  const peers = cluster.list();
  const keys = Array.from({ length: 40 }, (_, i) => `metrics-key-${i}`);
  for (const [i, k] of keys.entries()) await client.put(peers[i % peers.length]!.addr, k, `value-${i}`);
  for (const [i, k] of keys.entries()) await client.get(peers[(i + 3) % peers.length]!.addr, k);
  await client.get(peers[0]!.addr, 'metrics-missing-key');

  const after = await scrape(url);
  const puts = (e: typeof after) => e.sum('ringwire_requests_total', { type: 'put', result: 'ok' });
  const gets = (e: typeof after) => e.sum('ringwire_requests_total', { type: 'get', result: 'ok' });
  assert.equal(puts(after) - puts(before), 40, 'every put counted once, at its entry peer');
  assert.equal(gets(after) - gets(before), 41);
  assert.equal(after.sum('ringwire_lookup_hops_count') - before.sum('ringwire_lookup_hops_count'), 81, 'hops recorded for each client operation');
  assert.ok(after.sum('ringwire_requests_total', { type: 'ownerWrite' }) >= 1, 'store traffic between peers counted');
  assert.equal(after.sum('ringwire_keys'), 40, 'each key owned by exactly one peer');
  assert.equal(after.sum('ringwire_peer_keys'), 40, 'the per-peer series add up to the total');
  assert.ok(after.sum('ringwire_bytes_stored') >= 40 * ('metrics-key-0'.length + 'value-0'.length), 'bytes of keys and values, replicas included');
  assert.ok(after.sum('ringwire_request_duration_seconds_count') > before.sum('ringwire_request_duration_seconds_count'));
  assert.ok(after.sum('ringwire_cluster_keys') === 40);

  const sums = await scrape(`${url}?per_peer=false`);
  assert.equal(sums.samples.filter((s) => s.name.startsWith('ringwire_peer_')).length, 0, 'per_peer=false leaves only the sums');
});

test('chord node --metrics-port serves its own /metrics; refused frames are counted by reason', async (t) => {
  const child = spawn(process.execPath, [CLI, 'node', '--port', '0', '--metrics-port', '0', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ready = await new Promise<{ addr: string; metrics: string }>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`chord node exited with ${code}`)));
  });
  const url = `http://${ready.metrics}/metrics`;
  const client = new RingClient();
  t.after(() => client.close());
  await client.put(ready.addr, 'k', 'v');
  // A client that sends a frame far over the limit is refused before it is buffered.
  const net = await import('node:net');
  const [host, port] = [ready.addr.split(':')[0]!, Number(ready.addr.split(':')[1])];
  await new Promise<void>((resolve) => {
    const s = net.connect({ host, port }, () => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
  });
  const m = await scrape(url);
  assert.equal(m.sum('ringwire_peers'), 1);
  assert.equal(m.sum('ringwire_peer_requests_total', { type: 'put', result: 'ok' }), 1);
  assert.equal(m.sum('ringwire_peer_keys'), 1);
  assert.ok(m.sum('ringwire_frames_refused_total') >= 1, 'the oversized frame is counted');
  const reasons = m.samples.filter((s) => s.name === 'ringwire_frames_refused_total' && s.value > 0).map((s) => s.labels.reason);
  assert.ok(reasons.includes('FRAME_TOO_LARGE'), `refused by reason: ${reasons.join(', ')}`);
  assert.equal((await fetch(`http://${ready.metrics}/other`)).status, 404);

  child.kill('SIGTERM');
  assert.equal(await new Promise((r) => child.once('exit', r)), 0, 'leaves and exits 0');
});
